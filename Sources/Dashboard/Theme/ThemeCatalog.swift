import Foundation

/// The themes built into the binary (from `themes/*.theme`) and loading one by name or path.
///
/// ```swift
/// let loaded = try ThemeCatalog.load("okabe-ito")          // built-in, by name
/// let custom = try ThemeCatalog.load("~/my.theme")          // any btop-style file
/// ```
public enum ThemeCatalog {
    /// The built-in default theme, the base every other theme falls back to.
    public static let fallback: Theme = {
        let file = EmbeddedThemes.files[0]
        // The embedded default is checked by a test; a broken one is a build defect.
        return try! ThemeParser.parse(file.text, name: file.name, file: "themes/\(file.name).theme").theme
    }()

    /// Names of the built-in themes, the default first.
    public static var names: [String] { EmbeddedThemes.files.map(\.name) }

    /// The built-in themes, parsed over the default.
    public static var builtIn: [Theme] {
        EmbeddedThemes.files.compactMap { try? builtIn(named: $0.name).theme }
    }

    /// The embedded text of a built-in theme file.
    public static func embeddedText(named name: String) -> String? {
        EmbeddedThemes.files.first { $0.name == name }?.text
    }

    public static func builtIn(named name: String) throws(ThemeError) -> ThemeParser.Result {
        guard let text = embeddedText(named: name) else {
            throw ThemeError(file: name, line: 0,
                             message: "no such theme; built-in themes are \(names.joined(separator: ", ")), or give a path to a .theme file")
        }
        return try ThemeParser.parse(text, name: name, file: "themes/\(name).theme", base: fallback)
    }

    /// A built-in theme by name, or a theme file by path (anything with a `/` or ending `.theme`,
    /// or an existing file).
    public static func load(_ nameOrPath: String) throws(ThemeError) -> ThemeParser.Result {
        let looksLikePath = nameOrPath.contains("/") || nameOrPath.hasSuffix(".theme")
        if !looksLikePath, embeddedText(named: nameOrPath) != nil { return try builtIn(named: nameOrPath) }
        let path = (nameOrPath as NSString).expandingTildeInPath
        if looksLikePath || FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ThemeError(file: nameOrPath, line: 0, message: "cannot read the theme file (missing or unreadable)")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw ThemeError(file: nameOrPath, line: 0, message: "the theme file is not UTF-8 text")
            }
            let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            return try ThemeParser.parse(text, name: name, file: nameOrPath, base: fallback)
        }
        return try builtIn(named: nameOrPath)
    }
}
