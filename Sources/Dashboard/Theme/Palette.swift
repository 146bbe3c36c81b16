/// How many colours the terminal can show.
public enum ColorDepth: String, Sendable, Comparable, CaseIterable {
    /// No colour: `NO_COLOR` is set, or the terminal has none. Attributes and glyphs still work.
    case none
    case ansi16
    case indexed256
    case truecolor

    public static func < (a: ColorDepth, b: ColorDepth) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Picks the depth from the environment and what terminfo reports (`COLORS`):
    /// `NO_COLOR` (any non-empty value) wins; `COLORTERM=truecolor|24bit` means 24-bit only when
    /// the terminal can address colours directly (a `*-direct` terminfo, COLORS ≥ 2^24); then 256,
    /// then 16 (8-colour terminals use the 16-colour mapping, the bright half shown as bold-less
    /// normal colours by the terminal).
    public static func detect(environment: [String: String], terminalColors: Int, hasColors: Bool) -> ColorDepth {
        if let v = environment["NO_COLOR"], !v.isEmpty { return .none }
        guard hasColors, terminalColors >= 8 else { return .none }
        let colorterm = environment["COLORTERM"]?.lowercased() ?? ""
        if (colorterm == "truecolor" || colorterm == "24bit"), terminalColors >= 1 << 24 { return .truecolor }
        if terminalColors >= 256 { return .indexed256 }
        return .ansi16
    }
}

/// A theme resolved for one terminal: every key as a colour the terminal can show.
///
/// ```swift
/// let palette = Palette(theme: theme, depth: .indexed256)
/// palette.style(.quiet)          // foreground = quiet colour, background = main_bg
/// palette.gradient(.fill, 0.5)   // the fill gradient's middle
/// ```
public struct Palette: Sendable {
    public let theme: Theme
    public let depth: ColorDepth

    public init(theme: Theme, depth: ColorDepth) { self.theme = theme; self.depth = depth }

    public func color(_ key: ThemeKey) -> TerminalColor { Palette.degrade(theme[key], to: depth) }

    /// The base style: main foreground on main background.
    public var base: Style { Style(fg: color(.mainFg), bg: color(.mainBg)) }

    /// `key` as the foreground on the main background.
    public func style(_ key: ThemeKey, _ attributes: Attributes = []) -> Style {
        Style(fg: color(key), bg: color(.mainBg), attributes: attributes)
    }

    /// The selected row: selected colours; without colour, bold and underlined (reverse video
    /// would turn the row's gauges inside out: a full block would read as empty).
    public var selected: Style {
        if depth == .none || theme[.selectedBg] == .terminalDefault {
            return Style(attributes: [.bold, .underline])
        }
        return Style(fg: color(.selectedFg), bg: color(.selectedBg), attributes: .bold)
    }

    /// A colour along a `_start/_mid/_end` gradient at `t` in 0...1.
    public func gradientColor(_ gradient: ThemeGradient, _ t: Double) -> TerminalColor {
        let (s, m, e) = gradient.keys
        guard case let .rgb(r1, g1, b1) = theme[s], case let .rgb(r2, g2, b2) = theme[m],
              case let .rgb(r3, g3, b3) = theme[e] else {
            return color(t < 0.5 ? s : e)
        }
        let t = min(1, max(0, t.isFinite ? t : 0))
        func mix(_ a: UInt8, _ b: UInt8, _ u: Double) -> UInt8 { UInt8((Double(a) + (Double(b) - Double(a)) * u).rounded()) }
        let rgb: ThemeColor = t < 0.5
            ? .rgb(mix(r1, r2, t * 2), mix(g1, g2, t * 2), mix(b1, b2, t * 2))
            : .rgb(mix(r2, r3, t * 2 - 1), mix(g2, g3, t * 2 - 1), mix(b2, b3, t * 2 - 1))
        return Palette.degrade(rgb, to: depth)
    }

    public func gradient(_ gradient: ThemeGradient, _ t: Double) -> Style {
        Style(fg: gradientColor(gradient, t), bg: color(.mainBg))
    }

    // MARK: degrading

    /// xterm's default RGB values of the 16 ANSI colours.
    public static let ansi: [(UInt8, UInt8, UInt8)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]
    static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]

    /// A theme colour as the closest colour `depth` offers.
    ///
    /// 256 colours: an exact ANSI colour keeps its index 0–15 (so a 16-colour theme follows the
    /// user's terminal palette), anything else goes to the nearer of the 6×6×6 cube and the grey
    /// ramp. 16 colours: the nearest ANSI colour. No colour: the terminal default.
    public static func degrade(_ color: ThemeColor, to depth: ColorDepth) -> TerminalColor {
        guard case let .rgb(r, g, b) = color, depth != .none else { return .terminalDefault }
        switch depth {
        case .truecolor:
            return .rgb(r, g, b)
        case .indexed256:
            if let exact = ansi.firstIndex(where: { $0 == (r, g, b) }) { return .indexed(UInt8(exact)) }
            return .indexed(nearest256(Int(r), Int(g), Int(b)))
        case .ansi16:
            return .indexed(nearestANSI(Int(r), Int(g), Int(b)))
        case .none:
            return .terminalDefault
        }
    }

    static func distance(_ a: (Int, Int, Int), _ b: (Int, Int, Int)) -> Int {
        // Weighted for the eye's sensitivity (green most, blue least).
        let dr = a.0 - b.0, dg = a.1 - b.1, db = a.2 - b.2
        return 3 * dr * dr + 4 * dg * dg + 2 * db * db
    }

    static func nearest256(_ r: Int, _ g: Int, _ b: Int) -> UInt8 {
        func level(_ v: Int) -> Int {
            var best = 0
            for i in cubeLevels.indices where abs(cubeLevels[i] - v) < abs(cubeLevels[best] - v) { best = i }
            return best
        }
        let (ri, gi, bi) = (level(r), level(g), level(b))
        let cube = (cubeLevels[ri], cubeLevels[gi], cubeLevels[bi])
        let cubeIndex = 16 + 36 * ri + 6 * gi + bi
        let grey = (r + g + b) / 3
        let greyStep = min(23, max(0, (grey - 8 + 5) / 10))
        let greyValue = 8 + 10 * greyStep
        let greyDistance = distance((r, g, b), (greyValue, greyValue, greyValue))
        return greyDistance < distance((r, g, b), cube) ? UInt8(232 + greyStep) : UInt8(cubeIndex)
    }

    static func nearestANSI(_ r: Int, _ g: Int, _ b: Int) -> UInt8 {
        var best = 0, bestDistance = Int.max
        for (i, c) in ansi.enumerated() {
            let d = distance((r, g, b), (Int(c.0), Int(c.1), Int(c.2)))
            if d < bestDistance { best = i; bestDistance = d }
        }
        return UInt8(best)
    }
}
