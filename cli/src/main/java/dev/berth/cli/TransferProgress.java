package dev.berth.cli;

import dev.berth.oci.TransferListener;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * Draws a push's or pull's progress on a terminal (one line redrawn in place, throttled); prints
 * nothing otherwise, so that piped output holds only the results.
 */
final class TransferProgress implements TransferListener {
    private static final long REDRAW_NANOS = 100_000_000L;
    private final PrintWriter err;
    private final boolean terminal;
    private final String verb;
    private int files;
    private int skipped;
    private long lastDraw;
    private int lastWidth;

    TransferProgress(PrintWriter err, boolean terminal, String verb) {
        this.err = err;
        this.terminal = terminal;
        this.verb = verb;
    }

    @Override
    public synchronized void progress(String path, long done, long total) {
        long now = System.nanoTime();
        if (!terminal || now - lastDraw < REDRAW_NANOS) {
            return;
        }
        lastDraw = now;
        String percent = total > 0 ? String.format(Locale.ROOT, " %3d%%", Math.min(100, done * 100 / total)) : "";
        draw(verb + " " + Refs.abbreviate(path, 50) + percent + "  (" + Sizes.count(files, "file") + " done, " + skipped + " already there)");
    }

    @Override
    public synchronized void done(String path, long size, boolean wasThere) {
        files++;
        if (wasThere) {
            skipped++;
        }
        if (terminal) {
            draw(verb + " " + Refs.abbreviate(path, 50) + (wasThere ? " already there" : " done") + "  (" + Sizes.count(files, "file") + " done)");
        }
    }

    /** Clears the progress line before the results are printed. */
    synchronized void finish() {
        if (terminal && lastWidth > 0) {
            err.print("\r" + " ".repeat(lastWidth) + "\r");
            err.flush();
        }
    }

    private void draw(String line) {
        err.print("\r" + line + " ".repeat(Math.max(0, lastWidth - line.length())));
        err.flush();
        lastWidth = line.length();
    }
}
