/// Fitting text into a number of columns.
public enum TextFit {
    /// `text` cut to `width` columns, ending in `ellipsis` when cut. Never wider than `width`.
    public static func truncate(_ text: String, to width: Int, ellipsis: String = "…") -> String {
        guard width > 0 else { return "" }
        if CellWidth.of(text) <= width { return text }
        let room = width - CellWidth.of(ellipsis)
        guard room >= 0 else { return String(repeating: ".", count: width) }
        var out = "", used = 0
        for ch in text {
            let w = CellWidth.of(ch)
            if used + w > room { break }
            out.append(ch); used += w
        }
        return out + ellipsis
    }

    /// `text` truncated and padded with spaces to exactly `width` columns.
    public static func pad(_ text: String, to width: Int, alignRight: Bool = false, ellipsis: String = "…") -> String {
        let cut = truncate(text, to: width, ellipsis: ellipsis)
        let gap = String(repeating: " ", count: max(0, width - CellWidth.of(cut)))
        return alignRight ? gap + cut : cut + gap
    }

    /// `text` centred in `width` columns.
    public static func center(_ text: String, in width: Int) -> String {
        let cut = truncate(text, to: width)
        let gap = max(0, width - CellWidth.of(cut))
        return String(repeating: " ", count: gap / 2) + cut + String(repeating: " ", count: gap - gap / 2)
    }
}
