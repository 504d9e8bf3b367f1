import HTTP
import Logging
import Reactor

/// Where logs go: the error log (swift-log) to stderr and `LOG_PATH/error.log`, the access log to stdout and
/// `LOG_PATH/access.log`. Files are reopened on `SIGUSR1`, so logrotate works without copytruncate.
final class LogSinks: Sendable {
    let errors: [LogFile]
    let access: [LogFile]

    /// Opens the files under `logPath` (if any). Throws a message naming the file on failure.
    init(logPath: String?) throws(ConfigurationError) {
        var errors = [LogFile.standardError]
        var access = [LogFile.standardOutput]
        if let logPath {
            do {
                errors.append(try LogFile(path: logPath + "/error.log"))
                access.append(try LogFile(path: logPath + "/access.log"))
            } catch {
                throw ConfigurationError("LOG_PATH/--log-path '\(logPath)': cannot open a log file there: \(error)")
            }
        }
        self.errors = errors
        self.access = access
    }

    func reopen(logger: Logger) {
        for file in errors + access {
            do { try file.reopen() } catch {
                logger.error("cannot reopen log file \(file.filePath ?? "?"): \(error)")
            }
        }
        logger.info("SIGUSR1: log files reopened")
    }
}

/// A swift-log handler writing one line per message: time, level, message, metadata as `key=value`.
struct LineLogHandler: LogHandler {
    let sinks: [LogFile]
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = "\(IMFDate.iso8601(WallClock.now())) \(event.level) \(event.message)"
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() {
            line += " \(key)=\(merged[key]!)"
        }
        line += "\n"
        let bytes = Array(line.utf8)
        for sink in sinks { sink.write(bytes) }
    }
}
