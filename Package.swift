// swift-tools-version:6.1
import PackageDescription

// Layers (see ../shared/STYLE.md): App → Site, HTTP, TLS, ACME, Reactor; ACME → Reactor, COpenSSL;
// Site → HTTP, CSQLite; HTTP → Reactor, CNGHTTP2 (HTTP/2 framing); TLS → Reactor, COpenSSL; Reactor → CLinux.
// HTTP and TLS count through swift-metrics (CoreMetrics); App alone binds it to Prometheus and serves `/metrics`. CI builds with
// `--explicit-target-dependency-import-check error`, so an import not declared here fails the build.
let package = Package(
    name: "mywebsite",
    products: [
        .executable(name: "mywebsite", targets: ["App"]),
        .executable(name: "mywebsite-data", targets: ["DataTool"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/JohnSundell/Ink", exact: "0.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
    ],
    targets: [
        .target(name: "CLinux"),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CNGHTTP2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        .target(
            name: "Reactor",
            dependencies: ["CLinux", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "TLS",
            dependencies: ["Reactor", "COpenSSL", .product(name: "CoreMetrics", package: "swift-metrics")]
        ),
        .target(
            name: "HTTP",
            dependencies: ["Reactor", "CNGHTTP2", .product(name: "CoreMetrics", package: "swift-metrics")]
        ),
        // ACME (RFC 8555) client: JWS, CSR and its HTTPS client through OpenSSL (Sources/ACME/OpenSSL).
        .target(
            name: "ACME",
            dependencies: ["Reactor", "COpenSSL", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "Site",
            // Reactor for `Locked` only (a lock ThreadSanitizer sees): Site never touches a socket or a loop.
            dependencies: ["HTTP", "Reactor", "CSQLite", "CZlib", .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "App",
            dependencies: [
                "Site", "HTTP", "TLS", "Reactor", "ACME",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // `mywebsite-data`: builds, checks and packs website data packages. Foundation, Yams and Ink stay
        // here, out of the server binary.
        .executableTarget(
            name: "DataTool",
            dependencies: [
                "Site",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Ink", package: "Ink"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "ReactorTests", dependencies: ["Reactor"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "Reactor"]),
        .testTarget(name: "TLSTests", dependencies: ["TLS", "Reactor"]),
        .testTarget(name: "SiteTests", dependencies: ["Site", "HTTP"]),
        .testTarget(name: "ACMETests", dependencies: ["ACME"]),
        .testTarget(name: "DataToolTests", dependencies: ["DataTool", "Site"]),
        // Starts the real `mywebsite` binary (built by `swift build` first: scripts/test.sh does both).
        .testTarget(name: "EndToEndTests"),
    ],
    swiftLanguageModes: [.v6]
)
