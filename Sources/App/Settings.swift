import Glibc
import HTTP

/// Resolves one setting: the flag if given, else the environment variable, else the default. An invalid
/// value stops start-up with a message naming where it came from and what is allowed.
struct SettingResolver {
    let environment: [String: String]

    init(environment: [String: String] = ProcessEnvironment.all()) {
        self.environment = environment
    }

    func resolve<T>(
        flag: String, flagValue: String?, env: String?, default value: T, allowed: String,
        parse: (String) -> T?
    ) throws(ConfigurationError) -> T {
        if let raw = flagValue {
            guard let parsed = parse(raw) else {
                throw ConfigurationError("invalid value '\(raw)' for \(flag): expected \(allowed)")
            }
            return parsed
        }
        if let env, let raw = environment[env], !raw.isEmpty {
            guard let parsed = parse(raw) else {
                throw ConfigurationError("invalid value '\(raw)' in environment variable \(env): expected \(allowed)")
            }
            return parsed
        }
        return value
    }

    func string(flag: String, flagValue: String?, env: String?, default value: String) -> String {
        if let flagValue { return flagValue }
        if let env, let raw = environment[env], !raw.isEmpty { return raw }
        return value
    }
}

/// The process environment, read once without Foundation.
enum ProcessEnvironment {
    static func all() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") {
                result[String(text[..<eq])] = String(text[text.index(after: eq)...])
            }
            pointer += 1
        }
        return result
    }
}

/// Parsers for setting values.
enum Parse {
    static func port(_ s: String) -> UInt16? { UInt16(s) }
    static func portOrZero(_ s: String) -> Int? { Int(s).flatMap { (0...65535).contains($0) ? $0 : nil } }
    static func positiveInt(_ s: String) -> Int? { Int(s).flatMap { $0 > 0 ? $0 : nil } }
    static func nonNegativeInt(_ s: String) -> Int? { Int(s).flatMap { $0 >= 0 ? $0 : nil } }
    static func seconds(_ s: String) -> Int64? { Double(s).flatMap { $0 >= 0 && $0 < 1e6 ? Int64($0 * 1000) : nil } }
    static func bool(_ s: String) -> Bool? {
        switch s.lowercased() {
        case "1", "true", "yes", "on": true
        case "0", "false", "no", "off": false
        default: nil
        }
    }
    static func languages(_ s: String) -> [String]? {
        let list = s.split(separator: ",").map { String($0).trimmingCharacters(in: " ") }
        guard !list.isEmpty, Set(list).count == list.count,
            list.allSatisfy({ $0.count == 2 && $0.allSatisfy { $0 >= "a" && $0 <= "z" } })
        else { return nil }
        return list
    }
    static func cidrList(_ s: String) -> [String]? {
        let list = s.split(separator: ",").map { String($0).trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
        return (try? TrustedProxies(cidrs: list)) == nil ? nil : list
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
