import ArgumentParser

/// The `mywebsite` command: `serve` (the default), `healthcheck` and `data`.
@main
struct MyWebsite: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mywebsite",
        abstract: "A bilingual technical blog engine that serves its own HTTP(S).",
        subcommands: [ServeCommand.self, HealthcheckCommand.self, DataCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
