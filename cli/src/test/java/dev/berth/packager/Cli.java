package dev.berth.packager;

import dev.berth.cli.BerthMain;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

/** Runs {@code berth package} (or any command) in-process, as the command line would, capturing its output. */
final class Cli {
    record Run(int exitCode, String out, String err) {
        List<String> outLines() {
            return out.lines().filter(l -> !l.isBlank()).toList();
        }

        String lastLine() {
            List<String> lines = outLines();
            return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
        }

        String describe() {
            return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private Cli() {
    }

    static Run packageCommand(String... args) {
        String[] full = new String[args.length + 1];
        full[0] = "package";
        System.arraycopy(args, 0, full, 1, args.length);
        return berth(full);
    }

    /** Any berth command line. */
    static Run berth(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BerthMain.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(code, out.toString(), err.toString());
    }
}
