import Fleet

/// How each client group of a scenario is told apart: a marker glyph and one of the theme's two
/// group colours, by the group's place in the scenario (first `○`, second `●`, …), so any group
/// names work and no name is special.
enum GroupMarks {
    /// Most groups the isolation pane shows side by side.
    static let maximumColumns = 6

    static func mark(_ index: Int, glyphs: Glyphs) -> String {
        let marks = glyphs.braille ? [glyphs.quietMark, glyphs.noisyMark, "◇", "◆", "△", "▲"]
                                   : [glyphs.quietMark, glyphs.noisyMark, "+", "#", "x", "@"]
        return marks[index % marks.count]
    }

    /// Colours alternate between the theme's `quiet` and `noisy` keys; markers carry the rest
    /// (and are all there is without colour).
    static func themeKey(_ index: Int, _ groups: [GroupSnapshot]) -> ThemeKey {
        index % 2 == 0 ? .quiet : .noisy
    }

    /// The groups to show, in scenario order: `mixed` (a shared bucket's label, not a group of
    /// clients) left out.
    static func shown(_ groups: [GroupSnapshot]) -> [GroupSnapshot] {
        Array(groups.filter { $0.name != "mixed" }.prefix(maximumColumns))
    }
}
