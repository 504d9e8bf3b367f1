public enum TLSPlaceholderRemoveMe {}
