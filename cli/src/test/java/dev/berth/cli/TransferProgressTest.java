package dev.berth.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TransferProgressTest {
    @Test
    void drawsOneLineInPlaceOnATerminalAndClearsIt() {
        StringWriter err = new StringWriter();
        TransferProgress p = new TransferProgress(new PrintWriter(err, true), true, "pushing");
        p.progress("model.onnx", 50, 100);
        p.done("model.onnx", 100, false);
        p.done("data/customer_data.csv", 139890, true);
        p.finish();
        String text = err.toString();
        assertTrue(text.contains("\rpushing model.onnx  50%"), text);
        assertTrue(text.contains("data/customer_data.csv already there  (2 files done)"), text);
        assertTrue(text.endsWith("\r"), "the line is cleared before the results: " + text);
        assertEquals(-1, text.indexOf('\n'), "never a new line on the terminal");
    }

    @Test
    void printsNothingWhenNotATerminal() {
        StringWriter err = new StringWriter();
        TransferProgress p = new TransferProgress(new PrintWriter(err, true), false, "pulling");
        p.progress("model.onnx", 50, 100);
        p.done("model.onnx", 100, false);
        p.finish();
        assertEquals("", err.toString());
    }
}
