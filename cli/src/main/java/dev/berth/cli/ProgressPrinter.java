package dev.berth.cli;

import dev.berth.packager.PackageListener;
import dev.berth.packager.PackageProgress;

import java.io.Console;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * Shows an image build's progress: on a terminal one line redrawn in place (throttled), otherwise
 * plain lines, one each time a layer completes or the phase changes, so logs stay readable.
 */
final class ProgressPrinter implements PackageListener {
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintWriter out;
    private final boolean terminal;
    private long lastDraw;
    private int lastWidth;
    private String lastPhase = "";
    private int lastLayersDone = -1;

    ProgressPrinter(PrintWriter out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    /** True when stderr is an interactive terminal (and not redirected to a file or pipe). */
    static boolean stderrIsTerminal() {
        Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            // JDK 22+ returns a console even when redirected; isTerminal() tells them apart
            return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException e) {
            return true;
        }
    }

    @Override
    public synchronized void progress(PackageProgress p) {
        if (terminal) {
            long now = System.nanoTime();
            if (now - lastDraw < REDRAW_NANOS && p.fraction() < 1.0) {
                return;
            }
            lastDraw = now;
            String line = render(p);
            out.print("\r" + line + " ".repeat(Math.max(0, lastWidth - line.length())));
            lastWidth = line.length();
            out.flush();
        } else if (!p.phase().equals(lastPhase) || p.layersDone() != lastLayersDone) {
            lastPhase = p.phase();
            lastLayersDone = p.layersDone();
            out.println(render(p));
            out.flush();
        }
    }

    @Override
    public synchronized void message(String line) {
        clear();
        out.println(line);
        out.flush();
    }

    /** Ends the redrawn line so that what follows starts on a fresh one. */
    synchronized void finish() {
        clear();
    }

    private void clear() {
        if (terminal && lastWidth > 0) {
            out.print("\r" + " ".repeat(lastWidth) + "\r");
            lastWidth = 0;
            out.flush();
        }
    }

    static String render(PackageProgress p) {
        int width = 24;
        int filled = (int) Math.round(p.fraction() * width);
        String bar = "=".repeat(filled) + " ".repeat(width - filled);
        // counts that are not known yet (no layer seen, no byte to move) are left out rather than shown as 0/0
        String layers = p.layersTotal() > 0 ? String.format(Locale.ROOT, "  layers %d/%d", p.layersDone(), p.layersTotal()) : "";
        String moved = p.bytesTotal() > 0 ? "  " + bytes(p.bytesDone()) + " / " + bytes(p.bytesTotal()) : "";
        return String.format(Locale.ROOT, "[%s] %3d%% %s%s%s", bar, Math.round(p.fraction() * 100), p.phase(), layers, moved).stripTrailing();
    }

    static String bytes(long n) {
        return Sizes.human(n);
    }
}
