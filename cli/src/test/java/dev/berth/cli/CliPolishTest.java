package dev.berth.cli;

import dev.berth.registry.testing.Samples;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Messages and help as a person reads them, through the real commands on real files (issue 14). */
class CliPolishTest {
    @TempDir
    Path tmp;
    Path models;
    Path churn;

    record Result(int code, String out, String err) {
    }

    @BeforeEach
    void setUp() {
        models = tmp.resolve("models");
        churn = Samples.copy(Samples.CHURN, tmp.resolve("churn"));
    }

    static Result berth(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BerthMain.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(code, out.toString(), err.toString());
    }

    private Result ok(String... args) {
        Result r = berth(args);
        assertEquals(0, r.code(), String.join(" ", args) + ": " + r.err());
        return r;
    }

    private static void oneLine(Result r, int code, String start) {
        assertEquals(code, r.code(), r.toString());
        assertEquals(1, r.err().lines().count(), "one line: " + r.err());
        assertTrue(r.err().startsWith(start), r.err());
        assertFalse(r.err().contains("\tat ") || r.err().contains("Exception"), "no stack trace: " + r.err());
    }

    @Test
    void helpHasNoPicocliWarningAndSummariesAreWholeSentences() {
        Result alias = ok("alias", "--help");
        assertTrue(alias.out().contains("90% of requests to 3, 10% to 4"), alias.out());
        assertFalse((alias.out() + alias.err()).contains("picocli WARN"), alias.err());

        // the command list shows each command's first description line: it must be a sentence of its own
        CommandLine top = BerthMain.commandLine();
        for (Map.Entry<String, CommandLine> e : top.getSubcommands().entrySet()) {
            String[] description = e.getValue().getCommandSpec().usageMessage().description();
            assertTrue(description.length > 0, e.getKey());
            String first = description[0].strip();
            assertTrue(first.endsWith("."), "summary of '" + e.getKey() + "' is cut mid-sentence: " + first);
            Result help = berth(e.getKey(), "--help");
            assertFalse(help.err().contains("picocli WARN") || help.out().contains("picocli WARN"), e.getKey() + ": " + help.err());
        }
        String list = ok("--help").out();
        String commands = list.substring(list.indexOf("Commands:"));
        for (String entry : commands.split("\\n(?=  \\S)")) {
            if (entry.startsWith("Commands:")) {
                continue;
            }
            String summary = entry.strip().replaceAll("\\s+", " ");
            assertTrue(summary.endsWith("."), "summary cut mid-sentence in berth --help: " + summary);
        }
    }

    @Test
    void listRoundsMetricsAndCountsArePlural() throws IOException {
        Path metrics = Files.writeString(tmp.resolve("metrics.json"), "{\"accuracy\": 0.7833333333333333, \"rmse\": 1.2}");
        ok("register", churn.resolve("model.onnx").toString(), "--name", "churn", "--metrics", metrics.toString(), "--models", models.toString());
        String table = ok("list", "--models", models.toString()).out();
        assertTrue(table.contains("accuracy 0.7833 (v1)"), table);
        assertFalse(table.contains("0.78333"), table);
        assertTrue(ok("list", "--json", "--models", models.toString()).out().contains("0.7833333333333333"), "JSON keeps the value whole");

        String verify = ok("verify", "--models", models.toString()).out();
        assertTrue(verify.contains("verified 1 version, 2 files: all match"), verify);
        assertTrue(verify.contains("ok     churn:1 (2 files)"), verify);
        assertEquals("1 file", Sizes.count(1, "file"));
        assertEquals("0.0001235", Sizes.metric(0.00012346));
        assertEquals("1235", Sizes.metric(1234.5678));
        assertEquals("3", Sizes.metric(3.0));
    }

    @Test
    void errorsAreOneLineWithTheNearestNameSuggested() {
        ok("register", churn.toString(), "--name", "churn", "--models", models.toString());
        Result tag = berth("register", churn.toString(), "--name", "x", "--tag", "novalue", "--models", models.toString());
        oneLine(tag, 2, "berth register: Value for option '--tag' (K=V) should be in KEY=VALUE format but was novalue");
        assertFalse(tag.err().contains("option option"), tag.err());

        oneLine(berth("show", "chrun", "--models", models.toString()), 1, "berth show: no model 'chrun' in " + models + "; did you mean 'churn'?");
        oneLine(berth("show", "nothing-like-it", "--models", models.toString()), 1, "berth show: no model 'nothing-like-it' in " + models);
        assertFalse(berth("show", "nothing-like-it", "--models", models.toString()).err().contains("did you mean"));
        oneLine(berth("lst"), 2, "berth: unknown command 'lst' (did you mean 'list'?)");
        oneLine(berth("regster", "x"), 2, "berth: unknown command 'regster' (did you mean 'register'?)");
        oneLine(berth("list", "--modles", models.toString()), 2, "berth list: Unknown option: '--modles' (did you mean '--models'?)");
    }

    @Test
    void aWrongServingKeyInModelJsonIsNamedInOneLine() throws IOException {
        ok("register", churn.toString(), "--name", "churn", "--models", models.toString());
        Path info = models.resolve("churn/model.json");
        Files.writeString(info, "{\"serving\": {\"sessions\": 0}}");
        oneLine(berth("show", "churn", "--models", models.toString()), 2,
                "berth show: " + info + ": serving.sessions must be a whole number, 1 or more, got 0");
        Files.writeString(info, "{\"serving\": {\"optimization_level\": \"max\"}}");
        oneLine(berth("list", "--models", models.toString()), 2,
                "berth list: " + info + ": serving.optimization_level must be one of disabled, basic, extended, all, got \"max\"");
        Files.writeString(info, "{\"serving\": {\"sessions\": 2}}");
        assertTrue(ok("show", "churn", "--models", models.toString()).out().contains("churn:1"), "a partial serving block is fine");
    }

    @Test
    void reportIntoAMissingFolderCreatesItAndAFileInTheWayIsOneLine() throws IOException {
        ok("register", churn.toString(), "--name", "churn", "--models", models.toString());
        Path png = tmp.resolve("reports/2026/churn.png");
        Path html = tmp.resolve("pages/churn.html");
        Result r = ok("report", "churn", "--models", models.toString(), "--png", png.toString(), "--html", html.toString());
        assertTrue(Files.size(png) > 0 && Files.readString(html).startsWith("<!DOCTYPE html>"), r.out());
        Path blocker = Files.writeString(tmp.resolve("blocker"), "a file");
        Result blocked = berth("report", "churn", "--models", models.toString(), "--png", blocker.resolve("x.png").toString());
        oneLine(blocked, 2, "berth report: --png " + blocker.resolve("x.png") + ": " + blocker + " is a file, not a folder");
    }

    @Test
    void aNamedCommandBuildsOnlyItsOwnModelAndEverythingElseGetsThemAll() {
        // berth serve's start pays for serve's options alone; help and typos still see every command
        assertEquals(java.util.Set.of("serve"), BerthMain.commandLine("serve", "--models", "x").getSubcommands().keySet());
        assertEquals(java.util.Set.of("show"), BerthMain.commandLine("show", "churn").getSubcommands().keySet());
        int all = BerthMain.COMMANDS.size();
        assertEquals(all, BerthMain.commandLine("help", "serve").getSubcommands().size());
        assertEquals(all, BerthMain.commandLine("srve").getSubcommands().size());
        assertEquals(all, BerthMain.commandLine().getSubcommands().size());
        assertEquals(all, BerthMain.commandLine("--help").getSubcommands().size());
    }
}
