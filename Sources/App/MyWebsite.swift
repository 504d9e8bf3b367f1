import ArgumentParser

/// The `mywebsite` command: `serve` (the default) and `healthcheck`.
@main
struct MyWebsite: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mywebsite",
        abstract: "A bilingual technical blog engine that serves its own HTTP(S).",
        subcommands: [ServeCommand.self, HealthcheckCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
