import ArgumentParser
import Dashboard

struct ThemesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "themes",
        abstract: "List the built-in colour themes, one per line: name, then what it is.",
        discussion: "Use one with `bucketscope --theme NAME`, or give a path to any btop-style .theme file.")

    func run() throws {
        let names = ThemeCatalog.names
        let width = names.map(\.count).max() ?? 0
        for theme in ThemeCatalog.builtIn {
            let pad = String(repeating: " ", count: width - theme.name.count)
            print(theme.summary.isEmpty ? theme.name : "\(theme.name)\(pad)  \(theme.summary)")
        }
    }
}
