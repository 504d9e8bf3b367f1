public enum SitePlaceholderRemoveMe {}
