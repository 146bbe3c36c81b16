import CNcurses
import Dashboard

/// Turns what `wget_wch` returned into a key. `isFunctionKey` is its `KEY_CODE_YES` result:
/// the same number means a function key or a character depending on it (`KEY_UP` is 259, `ă`).
public enum KeyDecoder {
    public static func decode(_ code: UInt32, isFunctionKey: Bool) -> TerminalInput? {
        if isFunctionKey {
            let c = Int32(bitPattern: code)
            switch c {
            case KEY_UP: return .key(.up)
            case KEY_DOWN: return .key(.down)
            case KEY_LEFT: return .key(.left)
            case KEY_RIGHT: return .key(.right)
            case KEY_ENTER: return .key(.enter)
            case KEY_BACKSPACE: return .key(.backspace)
            case KEY_DC: return .key(.delete)
            case KEY_HOME: return .key(.home)
            case KEY_END: return .key(.end)
            case KEY_PPAGE: return .key(.pageUp)
            case KEY_NPAGE: return .key(.pageDown)
            case KEY_BTAB: return .key(.backTab)
            case KEY_RESIZE: return .resize
            default:
                for n in 1...12 where c == bs_key_f(Int32(n)) { return .key(.function(n)) }
                return nil
            }
        }
        switch code {
        case 9: return .key(.tab)
        case 10, 13: return .key(.enter)
        case 27: return .key(.escape)
        case 8, 127: return .key(.backspace)
        case 1...26: return .key(.ctrl(Character(Unicode.Scalar(code + 96)!)))
        default:
            guard let scalar = Unicode.Scalar(code), code >= 32 else { return nil }
            return .key(.char(Character(scalar)))
        }
    }
}

/// Turns what `getmouse` reported (the shim's kind code: 1 press, 2 wheel up, 3 wheel down)
/// into mouse input; other buttons and releases are dropped.
public enum MouseDecoder {
    public static func decode(kind: Int32, x: Int32, y: Int32) -> TerminalInput? {
        switch kind {
        case 1: return .mouse(MouseEvent(.press, x: Int(x), y: Int(y)))
        case 2: return .mouse(MouseEvent(.wheelUp, x: Int(x), y: Int(y)))
        case 3: return .mouse(MouseEvent(.wheelDown, x: Int(x), y: Int(y)))
        default: return nil
        }
    }
}
