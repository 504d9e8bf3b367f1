/// Splits a list of `itemCount` items into pages of `pageSize`, numbered from 1.
///
/// ```
/// 0 items  → 1 page (empty: the home page exists before the first article)
/// 10 items → 1 page      11 items → 2 pages (10 + 1)      25 items, size 10 → 3 pages
/// ```
struct Pagination: Sendable, Equatable {
    let itemCount: Int
    let pageSize: Int

    init(itemCount: Int, pageSize: Int) {
        self.itemCount = max(0, itemCount)
        self.pageSize = max(1, pageSize)
    }

    /// The number of pages, at least 1.
    var pageCount: Int { max(1, (itemCount + pageSize - 1) / pageSize) }

    /// The item indices on page `number` (1-based); empty outside 1…pageCount.
    func range(ofPage number: Int) -> Range<Int> {
        guard number >= 1, number <= pageCount else { return 0..<0 }
        let start = (number - 1) * pageSize
        return start..<min(itemCount, start + pageSize)
    }
}
