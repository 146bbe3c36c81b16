import ArgumentParser
import TokenBucket

/// `bucketscope presets`: provider limits and the client buckets derived from them (the
/// library's one rule, `ProviderPreset`), with the arithmetic, so a user can check the numbers
/// before trusting them.
struct PresetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presets",
        abstract: "List provider presets: documented limits and client buckets at 80 % headroom.")

    @Flag(help: "Show the arithmetic and notes under each preset.")
    var verbose = false

    @Option(help: "Split each preset's budget over this many keys, each with its own bucket (the same rule).")
    var keys = 1

    @Argument(help: "Show only this preset, by name or slug, in any case (implies --verbose).")
    var name: String?

    func validate() throws {
        guard keys >= 1 else { throw ValidationError("--keys must be at least 1, got \(keys)") }
    }

    func run() throws {
        var presets = ProviderPreset.all
        if let name {
            do {
                presets = [try ProviderPreset(named: name)]
            } catch let e as UnknownPreset {
                throw CommandFailure(e.description)
            }
        }
        for preset in presets {
            var limits: [String] = []
            let u = preset.upstream
            if let r = u.requestsPerMinute { limits.append("\(grouped(r)) RPM") }
            if let t = u.tokensPerMinute { limits.append("\(grouped(t)) TPM") }
            if let t = u.inputTokensPerMinute { limits.append("\(grouped(t)) input TPM") }
            if let t = u.outputTokensPerMinute { limits.append("\(grouped(t)) output TPM") }
            if let d = u.requestsPerDay { limits.append("\(grouped(d)) requests/day") }
            print("\(preset.name) (\(preset.slug)): " + limits.joined(separator: ", "))
            let client = try preset.clientLimits(keys: keys)
            let buckets = client.dimensions.map { d -> String in
                let c = client[d]!
                let refill = d == .requestsPerDay ? "\(grouped(c.refill.perSecond * 86_400))/day" : "\(grouped(c.refill.perSecond))/s"
                return "\(PresetsCommand.label(d)) \(grouped(c.capacity)) + \(refill)"
            }
            print("    client buckets\(keys == 1 ? "" : " per key (\(keys) keys)"): " + buckets.joined(separator: ", "))
            if verbose || name != nil {
                for line in try preset.clientArithmetic(keys: keys) { print("    " + line) }
                if let t = preset.tutorial {
                    print("    tutorial: published \(t.published ?? "unknown to us"), rule gives \(t.derived): \(t.remark)")
                }
                if !preset.notes.isEmpty { print("    note: " + preset.notes) }
            }
        }
    }

    static func label(_ d: LLMDimension) -> String {
        switch d {
        case .requests: return "requests"
        case .tokens: return "tokens"
        case .inputTokens: return "input tokens"
        case .outputTokens: return "output tokens"
        case .requestsPerDay: return "requests/day"
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
