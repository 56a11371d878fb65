package dev.berth.cli;

import dev.berth.packager.PackageProgress;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressPrinterTest {
    @Test
    void plainOutputPrintsALineOnlyWhenALayerCompletesOrThePhaseChanges() {
        StringWriter out = new StringWriter();
        ProgressPrinter printer = new ProgressPrinter(new PrintWriter(out), false);
        printer.progress(new PackageProgress(0.1, "pushing", 0, 3, 100, 3 * 1024 * 1024));
        printer.progress(new PackageProgress(0.2, "pushing", 0, 3, 200, 3 * 1024 * 1024));
        printer.progress(new PackageProgress(0.5, "pushing", 1, 3, 1024 * 1024, 3 * 1024 * 1024));
        printer.progress(new PackageProgress(0.9, "writing tar", 1, 3, 1024 * 1024, 3 * 1024 * 1024));
        String[] lines = out.toString().split("\n");
        assertEquals(3, lines.length, out.toString());
        assertFalse(out.toString().contains("\r"));
        assertTrue(lines[1].contains("layers 1/3") && lines[1].contains("1.0 MiB / 3.0 MiB"), lines[1]);
        assertTrue(lines[2].contains("writing tar"), lines[2]);
    }

    @Test
    void terminalOutputRedrawsOneLine() {
        StringWriter out = new StringWriter();
        ProgressPrinter printer = new ProgressPrinter(new PrintWriter(out), true);
        printer.progress(new PackageProgress(0.25, "pushing", 1, 4, 10, 2048));
        printer.progress(new PackageProgress(1.0, "pushing", 4, 4, 2048, 2048));
        printer.finish();
        String text = out.toString();
        assertFalse(text.contains("\n"), "redrawn in place, no new lines");
        assertTrue(text.startsWith("\r[======"), text);
        assertTrue(text.contains("100% pushing") && text.contains("layers 4/4") && text.contains("2.0 KiB / 2.0 KiB"), text);
        assertTrue(text.endsWith("\r"), "the line is cleared for what follows");
    }

    @Test
    void countsNotKnownYetAreLeftOutNotShownAsZero() {
        assertEquals("[============            ]  50% writing tar", ProgressPrinter.render(new PackageProgress(0.5, "writing tar", 0, 0, 0, 0)));
        assertEquals("[                        ]   0% building layers", ProgressPrinter.render(new PackageProgress(0, "building layers", 0, 0, 0, 0)));
        assertTrue(ProgressPrinter.render(new PackageProgress(0.5, "pushing", 1, 2, 512, 1024)).endsWith("pushing  layers 1/2  512 B / 1.0 KiB"));
    }

    @Test
    void bytesAreHumanReadable() {
        assertEquals("512 B", ProgressPrinter.bytes(512));
        assertEquals("1.5 KiB", ProgressPrinter.bytes(1536));
        assertEquals("120.0 MiB", ProgressPrinter.bytes(120L * 1024 * 1024));
    }
}
