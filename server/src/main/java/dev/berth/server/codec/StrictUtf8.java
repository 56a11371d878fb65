package dev.berth.server.codec;

import dev.berth.runtime.InferenceException;

/**
 * Refuses byte sequences that are not well-formed UTF-8 (RFC 3629): stray continuation bytes,
 * truncated sequences, overlong forms such as {@code C0 AF} for '/', UTF-16 surrogates and code
 * points above U+10FFFF. Jackson decodes overlong forms into the characters they spell, so a
 * check after parsing would be too late: an id or a name could smuggle a '/' past a filter that
 * looks at the bytes.
 */
public final class StrictUtf8 {
    private StrictUtf8() {
    }

    /**
     * Checks {@code bytes[from, to)}.
     *
     * @param what names the text in the refusal ("the request body")
     * @throws InferenceException.InvalidInput naming the byte offset of the first bad sequence
     */
    public static void check(byte[] bytes, int from, int to, String what) {
        int i = from;
        while (i < to) {
            // JSON is mostly ASCII: one comparison a byte, far faster than the parser that follows
            int b = bytes[i];
            if (b >= 0) {
                i++;
                continue;
            }
            int length = sequenceLength(bytes, i, to);
            if (length < 0) {
                throw new InferenceException.InvalidInput(what + " is not valid UTF-8 at byte " + (i - from)
                        + " (0x" + Integer.toHexString(b & 0xff) + "): overlong, truncated or invalid sequences are refused");
            }
            i += length;
        }
    }

    /**
     * Refuses a string that holds a UTF-16 surrogate without its partner. Well-formed bytes can still
     * spell one in JSON, as the escape {@code \\ud800}; Java keeps it in the string, and encoding that
     * string to UTF-8 would silently turn it into {@code '?'}, a different value than the client sent.
     *
     * @param what names the string in the refusal ("element 3 of input 'text'")
     * @return {@code text}
     */
    public static String checkText(String text, String what) {
        for (int i = 0, n = text.length(); i < n; i++) {
            char c = text.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++;
                    continue;
                }
                throw new InferenceException.InvalidInput(what + " holds a lone UTF-16 surrogate (\\u"
                        + Integer.toHexString(c) + ") at character " + i + ": it has no UTF-8 form");
            }
        }
        return text;
    }

    /** True when {@code text} decoded from a URL or header holds the replacement character a bad sequence became. */
    public static boolean hasReplacement(String text) {
        return text != null && text.indexOf('\uFFFD') >= 0;
    }

    /** Length of the well-formed multi-byte sequence at {@code i}, or -1 when it is not one. */
    private static int sequenceLength(byte[] bytes, int i, int to) {
        int b0 = bytes[i] & 0xff;
        int length;
        int min2;
        int max2 = 0xBF;
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            length = 2;
            min2 = 0x80;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            length = 3;
            // E0 needs A0.. (below is overlong); ED stops at 9F (above are surrogates)
            min2 = b0 == 0xE0 ? 0xA0 : 0x80;
            max2 = b0 == 0xED ? 0x9F : 0xBF;
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            length = 4;
            // F0 needs 90.. (overlong below); F4 stops at 8F (above is past U+10FFFF)
            min2 = b0 == 0xF0 ? 0x90 : 0x80;
            max2 = b0 == 0xF4 ? 0x8F : 0xBF;
        } else {
            return -1; // 80..C1 (continuation or overlong lead) and F5..FF never start a sequence
        }
        if (i + length > to) {
            return -1;
        }
        int b1 = bytes[i + 1] & 0xff;
        if (b1 < min2 || b1 > max2) {
            return -1;
        }
        for (int k = 2; k < length; k++) {
            int b = bytes[i + k] & 0xff;
            if (b < 0x80 || b > 0xBF) {
                return -1;
            }
        }
        return length;
    }
}
