package dev.berth.runtime.onnx;

import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * ONNX Runtime's error messages, shortened for clients: which node failed and why, without the
 * error-code preamble, source locations and C++ signatures that ONNX Runtime puts around the
 * cause. {@code Error code - ORT_FAIL - message: Non-zero status code returned while running Div
 * node. Name:'' Status Message: element_wise_ops.cc:692 Compute Integer division by zero} becomes
 * {@code Div node: Integer division by zero}. The full message stays in the server's debug log.
 */
final class OrtMessages {
    private static final Pattern PREAMBLE = Pattern.compile("^Error code - \\w+ - message: ");
    private static final Pattern NODE = Pattern.compile(
            "Non-zero status code returned while running (\\S+) node\\. Name:'(.*?)' Status Message: (.*)", Pattern.DOTALL);
    private static final Pattern NESTED = Pattern.compile("^\\[ONNXRuntimeError\\] : \\d+ : \\w+ : ");
    private static final Pattern LOCATION = Pattern.compile("^\\S+\\.(?:cc|h|cpp|hpp|cu|inc):\\d+ ");
    private static final Set<String> SIGNATURE_STARTS = Set.of("void", "static", "virtual", "int", "bool", "const",
            "inline", "size_t", "int64_t", "int32_t", "uint64_t", "auto", "float", "double", "unsigned", "long");

    private OrtMessages() {
    }

    /** The cause of an ONNX Runtime failure, in one line. */
    static String cause(String message) {
        if (message == null || message.isBlank()) {
            return "unknown error";
        }
        String text = PREAMBLE.matcher(message.strip()).replaceFirst("");
        String where = "";
        // the innermost node: a failure inside a subgraph is reported by every enclosing node
        Matcher m = NODE.matcher(text);
        while (m.find()) {
            where = m.group(1) + " node" + (m.group(2).isEmpty() ? "" : " '" + m.group(2) + "'");
            text = m.group(3);
            m = NODE.matcher(text);
        }
        text = clean(text);
        int nl = text.indexOf('\n');
        if (nl >= 0) {
            text = text.substring(0, nl).strip();
        }
        if (text.isEmpty()) {
            text = "no details given";
        }
        return where.isEmpty() ? text : where + ": " + text;
    }

    private static String clean(String s) {
        String text = s.strip();
        while (true) {
            Matcher nested = NESTED.matcher(text);
            if (nested.find()) {
                text = text.substring(nested.end()).strip();
                continue;
            }
            Matcher location = LOCATION.matcher(text);
            if (!location.find()) {
                return text;
            }
            text = skipFunction(text.substring(location.end())).strip();
        }
    }

    /** Drops the function ONNX Runtime names after a source location: a bare name or a full C++ signature. */
    private static String skipFunction(String s) {
        int space = s.indexOf(' ');
        if (space < 0) {
            return "";
        }
        String first = s.substring(0, space);
        boolean signature = first.contains("::") || first.contains("(") || first.contains("<") || first.endsWith("*")
                || first.endsWith("&") || SIGNATURE_STARTS.contains(first);
        if (!signature) {
            return s.substring(space + 1);
        }
        int open = s.indexOf('(');
        if (open < 0) {
            return s.substring(space + 1);
        }
        int at = matching(s, open, '(', ')');
        while (at < s.length()) {
            if (s.startsWith(" const", at)) {
                at += 6;
            } else if (s.startsWith("::<lambda(", at)) {
                at = matching(s, at + 2, '<', '>');
            } else if (s.startsWith(" [with ", at)) {
                at = matching(s, at + 1, '[', ']');
            } else {
                break;
            }
        }
        return s.substring(Math.min(at, s.length()));
    }

    /** The index after the bracket that closes the one at {@code open}. */
    private static int matching(String s, int open, char opening, char closing) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == opening) {
                depth++;
            } else if (c == closing && --depth == 0) {
                return i + 1;
            }
        }
        return s.length();
    }
}
