internal import Glibc

/// What `stat(2)` says about every file and directory a generation was built from. Two stamps differ when
/// anything was added, removed, replaced or rewritten: a reload check is one `stat` per path, no reading.
///
/// ```
/// DATA/                  the package root: a new inode when the bind mount or directory is replaced
/// DATA/site.db           the database: inode, size, mtime and ctime (nanoseconds: two writes in a second)
/// DATA/articles/, DATA/articles/<lang>/, DATA/articles/images/
///                        directories: their mtime changes when a body or image is added, removed or renamed
/// TEMPLATES/, TEMPLATES/partials/, each template file read
/// STATIC/css/site.css    the stylesheet, whose hash versions its URL in every page
/// ```
/// A body file rewritten in place (same name) is not seen until the database or a directory changes; data
/// packages are replaced whole (README), which always changes the database.
struct SourceStamp: Equatable, Sendable {
    /// One path's `stat`, or nil when it does not exist (so its appearance is a change too).
    struct Entry: Equatable, Sendable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modifiedSeconds: Int64
        var modifiedNanoseconds: Int64
        var changedSeconds: Int64
        var changedNanoseconds: Int64
    }

    /// The paths stamped, in order.
    let paths: [String]
    /// The stat of each path, nil where it is missing.
    let entries: [Entry?]

    /// Stats every path now.
    init(paths: [String]) {
        self.paths = paths
        self.entries = paths.map(Self.entry)
    }

    /// A stamp of nothing (the generation before the first load).
    static let none = SourceStamp(paths: [])

    /// The paths of `configuration`'s sources, plus the template files a library read.
    static func paths(
        for configuration: SiteConfiguration, templateFiles: [String], stylesheetPath: String?
    ) -> [String] {
        let data = configuration.dataPath
        var paths = [data, data + "/" + configuration.databaseName, data + "/articles", data + "/articles/images"]
        paths += configuration.languages.map { data + "/articles/" + $0 }
        paths += [configuration.templatesPath, configuration.templatesPath + "/partials"]
        // The required templates are always stamped, so one that was missing when a load failed is noticed
        // when it appears; the partials come from the last library read.
        let required = PageTemplate.allCases.map { configuration.templatesPath + "/" + $0.rawValue + ".mustache" }
        paths += required
        paths += templateFiles.filter { !required.contains($0) }
        if let stylesheetPath { paths.append(stylesheetPath) }
        return paths
    }

    /// Whether the database file exists (a missing package is told apart from a broken one).
    func exists(_ path: String) -> Bool {
        guard let i = paths.firstIndex(of: path) else { return false }
        return entries[i] != nil
    }

    private static func entry(_ path: String) -> Entry? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Entry(
            device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
            modifiedSeconds: Int64(st.st_mtim.tv_sec), modifiedNanoseconds: Int64(st.st_mtim.tv_nsec),
            changedSeconds: Int64(st.st_ctim.tv_sec), changedNanoseconds: Int64(st.st_ctim.tv_nsec))
    }
}
