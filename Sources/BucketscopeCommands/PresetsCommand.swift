import ArgumentParser
import TokenBucket

/// `bucketscope presets`: provider limits and the client buckets derived from them, with the
/// arithmetic, so a user can check the numbers before trusting them.
struct PresetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presets",
        abstract: "List provider presets: documented limits and client buckets at 80 % headroom.")

    @Flag(help: "Show the arithmetic and notes under each preset.")
    var verbose = false

    @Argument(help: "Show only the preset with this exact name (implies --verbose).")
    var name: String?

    func run() throws {
        var presets = ProviderPreset.all
        if let name {
            guard let preset = ProviderPreset.named(name) else {
                throw CommandFailure("no preset named \"\(name)\"; `bucketscope presets` lists them")
            }
            presets = [preset]
        }
        let width = presets.map(\.name.count).max() ?? 0
        for preset in presets {
            var limits: [String] = []
            let u = preset.upstream
            if let r = u.requestsPerMinute { limits.append("\(grouped(r)) RPM") }
            if let t = u.tokensPerMinute { limits.append("\(grouped(t)) TPM") }
            if let t = u.inputTokensPerMinute { limits.append("\(grouped(t)) input TPM") }
            if let t = u.outputTokensPerMinute { limits.append("\(grouped(t)) output TPM") }
            if let d = u.requestsPerDay { limits.append("\(grouped(d)) requests/day") }
            print(preset.name + String(repeating: " ", count: width - preset.name.count) + "  " + limits.joined(separator: ", "))
            if verbose || name != nil {
                for line in preset.arithmetic { print("    " + line) }
                if let t = preset.tutorial {
                    print("    tutorial: published \(t.published ?? "unknown to us"), rule gives \(t.derived): \(t.remark)")
                }
                if !preset.notes.isEmpty { print("    note: " + preset.notes) }
            }
        }
    }
}

/// `30000` → "30,000"; `6.666…` → "6.67".
func grouped(_ x: Double) -> String {
    let hundredths = Int64((x * 100).rounded())
    var whole = String(hundredths / 100)
    var out = ""
    while whole.count > 3 {
        out = "," + whole.suffix(3) + out
        whole = String(whole.dropLast(3))
    }
    out = whole + out
    let frac = hundredths % 100
    if frac == 0 { return out }
    return out + "." + (frac < 10 ? "0" : "") + (frac % 10 == 0 ? String(frac / 10) : String(frac))
}
