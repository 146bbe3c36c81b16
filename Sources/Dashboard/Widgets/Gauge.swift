/// A horizontal bar showing `fraction` of `width` cells with eighth-block precision.
///
/// ```swift
/// Gauge(fraction: 0.43).render(into: &grid, at: Rect(x: 0, y: 0, width: 10, height: 1))
/// // "████▎     ": 0.43 × 80 eighths = 34.4 → 34 = 4 full cells and ▎ (2 eighths)
/// ```
/// The filled length is rounded to the nearest eighth of a cell, so 0 draws nothing and 1 fills
/// every cell; any positive fraction shows at least one eighth, so a nearly empty bucket is
/// never drawn as empty.
public struct Gauge: Sendable {
    public var fraction: Double
    public var style: Style
    /// Colour of the filled part, by how full the gauge is (a theme gradient); nil uses `style`.
    public var fillStyle: (@Sendable (Double) -> Style)?
    public var glyphs: Glyphs

    public init(fraction: Double, style: Style = .plain, glyphs: Glyphs = .unicode,
                fillStyle: (@Sendable (Double) -> Style)? = nil) {
        self.fraction = fraction; self.style = style; self.glyphs = glyphs; self.fillStyle = fillStyle
    }

    /// Eighths of a cell filled for a given width: 0...width × 8.
    public static func eighths(fraction: Double, width: Int) -> Int {
        guard width > 0, fraction.isFinite else { return 0 }
        let f = min(1, max(0, fraction))
        let total = width * 8
        var n = Int((f * Double(total)).rounded())
        if f > 0, n == 0 { n = 1 }
        if f < 1, n == total { n = total - 1 }
        return n
    }

    /// The gauge as text exactly `width` columns wide.
    public func text(width: Int) -> String {
        let n = Gauge.eighths(fraction: fraction, width: width)
        let full = n / 8, part = n % 8
        var s = String(repeating: glyphs.eighths[7], count: full)
        if part > 0 { s += glyphs.eighths[part - 1] }
        return s + String(repeating: " ", count: max(0, width - full - (part > 0 ? 1 : 0)))
    }

    public func render(into grid: inout Grid, at rect: Rect) {
        guard !rect.isEmpty else { return }
        let fill = fillStyle?(min(1, max(0, fraction.isFinite ? fraction : 0))) ?? style
        grid.put(text(width: rect.width), x: rect.x, y: rect.y, style: fill, maxWidth: rect.width)
    }
}
