internal import Glibc
import Logging

/// What a reload did.
public enum ReloadOutcome: Sendable, Equatable, CustomStringConvertible {
    /// Nothing changed on disk since the generation served was built (or since the last refusal): no load.
    case unchanged
    /// A new generation, with this number, is now served.
    case reloaded(generation: Int)
    /// The new package or templates were refused (the reason was logged); the previous generation still
    /// serves.
    case refused(reason: String)

    public var description: String {
        switch self {
        case .unchanged: "unchanged"
        case .reloaded(let number): "reloaded generation \(number)"
        case .refused(let reason): "refused: \(reason)"
        }
    }
}

/// What reloads remember between calls (behind `SiteService.reloadState`).
struct ReloadState {
    /// The stamp of the sources last refused: the periodic check does not load and log the same broken
    /// package every second, only once per change.
    var refusedStamp: SourceStamp?
}

extension SiteService {
    /// Reloads if any source (database, article directories, templates, stylesheet) changed since the served
    /// generation was built. Cheap when nothing changed: one `stat` per source path, no reading. Meant to be
    /// called every second from a background thread (never from a loop thread: a load takes tens of ms).
    public func reloadIfChanged() -> ReloadOutcome {
        reload(force: false)
    }

    /// Loads the data package and templates again and swaps them in if they are valid, whether or not they
    /// changed when `force` (SIGHUP). Thread-safe; concurrent calls run one after the other.
    ///
    /// Loading is all or nothing: open and check the database, read every body, parse every template, render
    /// every page, then swap under the lock. A missing, broken or half-copied package or a template error is
    /// refused with one error log line naming the reason, and the previous generation keeps serving. If the
    /// sources change while loading (a copy in progress), the load is retried once after
    /// `reloadRetryDelayMilliseconds`; if they change again it is refused, and the next check tries again.
    public func reload(force: Bool) -> ReloadOutcome {
        reloadState.withLock { state in
            let served = generation
            let paths = served.stamp.paths
            if !force {
                // The refused stamp may cover more files (those the refused load read): compare like with like.
                if SourceStamp(paths: paths) == served.stamp { return .unchanged }
                if let refused = state.refusedStamp, SourceStamp(paths: refused.paths) == refused { return .unchanged }
            }
            let inputs = Generation.Inputs(
                number: served.number + 1, configuration: configuration, staticRoot: staticFiles?.root,
                now: FileSystem.wallClockSeconds(), previous: served)
            switch Self.loadStable(inputs, paths: paths, loadContent: loadContent) {
            case .success(let next):
                current.withLock { $0 = next }
                state.refusedStamp = nil
                logger.info(
                    "content reloaded", metadata: ["generation": "\(next.number)", "pages": "\(next.summary)"])
                return .reloaded(generation: next.number)
            case .failure(let failure):
                // A package that changed under the load is tried again at the next check; a stable broken one
                // is not, until it changes.
                state.refusedStamp = failure.changing ? nil : failure.stamp
                logger.error(
                    "content reload refused, still serving generation \(served.number): \(failure.error.reason)")
                return .refused(reason: failure.error.reason)
            }
        }
    }

    /// Why `loadStable` gave up, with the sources' stamp at that time.
    struct LoadFailure: Error {
        let error: Generation.LoadError
        let stamp: SourceStamp
        /// True when the sources kept changing during the load.
        let changing: Bool
    }

    /// Loads a generation, checking that the sources at `paths` did not change during the load; if they did,
    /// waits and loads once more.
    static func loadStable(
        _ inputs: Generation.Inputs, paths: [String],
        loadContent: @Sendable (SiteConfiguration) throws(ContentError) -> any ContentSource
    ) -> Result<Generation, LoadFailure> {
        var before = SourceStamp(paths: paths)
        for attempt in 1...2 {
            let result = loadGeneration(inputs, loadContent: loadContent)
            let after = SourceStamp(paths: paths)
            if after == before {
                return result.mapError { error in
                    let watched = paths + error.templateFiles.filter { !paths.contains($0) }
                    return LoadFailure(error: error, stamp: SourceStamp(paths: watched), changing: false)
                }
            }
            if attempt == 2 {
                let error = Generation.LoadError(reason: "the data package or templates changed while being loaded")
                return .failure(LoadFailure(error: error, stamp: after, changing: true))
            }
            usleep(UInt32(inputs.configuration.reloadRetryDelayMilliseconds) * 1000)
            before = SourceStamp(paths: paths)
        }
        preconditionFailure("loadStable: the loop returns on its second attempt")
    }

    /// One load: the content opened by `loadContent`, then the generation built from it.
    static func loadGeneration(
        _ inputs: Generation.Inputs,
        loadContent: @Sendable (SiteConfiguration) throws(ContentError) -> any ContentSource
    ) -> Result<Generation, Generation.LoadError> {
        let content: any ContentSource
        do {
            content = try loadContent(inputs.configuration)
        } catch {
            return .failure(Generation.LoadError(reason: error.message))
        }
        do {
            return .success(try Generation.build(content: content, inputs: inputs))
        } catch {
            return .failure(error)
        }
    }
}
