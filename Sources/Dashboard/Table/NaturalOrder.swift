/// Names compared as a person reads them: runs of digits by their value, so `app-2` comes
/// before `app-10` (htop and file managers sort this way). Case is ignored first, then used as
/// a tie-break so the order is total.
///
/// ```swift
/// ["app-10", "app-2", "App-1"].sorted(by: NaturalOrder.less) // ["App-1", "app-2", "app-10"]
/// ```
public enum NaturalOrder {
    public static func less(_ a: String, _ b: String) -> Bool {
        let c = compare(a, b)
        return c != 0 ? c < 0 : a < b
    }

    /// -1, 0 or 1. Digit runs compare by value (leading zeros ignored); other characters by their
    /// lower-cased Unicode scalar value.
    /// - Complexity: O(length of the shorter name).
    public static func compare(_ a: String, _ b: String) -> Int {
        var i = a.utf8.makeIterator(), j = b.utf8.makeIterator()
        var x = i.next(), y = j.next()
        while let cx = x, let cy = y {
            if isDigit(cx), isDigit(cy) {
                // Skip leading zeros, then the longer run is the larger number; equal lengths
                // compare digit by digit (first difference decides).
                var nx: UInt8? = cx, ny: UInt8? = cy
                while nx == 0x30 { nx = i.next() }
                while ny == 0x30 { ny = j.next() }
                var lenX = 0, lenY = 0, first = 0
                while let vx = nx, isDigit(vx), let vy = ny, isDigit(vy) {
                    if first == 0, vx != vy { first = vx < vy ? -1 : 1 }
                    lenX += 1; lenY += 1
                    nx = i.next(); ny = j.next()
                }
                while let vx = nx, isDigit(vx) { lenX += 1; nx = i.next() }
                while let vy = ny, isDigit(vy) { lenY += 1; ny = j.next() }
                if lenX != lenY { return lenX < lenY ? -1 : 1 }
                if first != 0 { return first }
                x = nx; y = ny
                continue
            }
            let lx = lower(cx), ly = lower(cy)
            if lx != ly { return lx < ly ? -1 : 1 }
            x = i.next(); y = j.next()
        }
        if x == nil, y == nil { return 0 }
        return x == nil ? -1 : 1
    }

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    @inline(__always) static func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c + 32 : c }
}
