package dev.berth.cli;

import dev.berth.server.ServeOption;
import dev.berth.server.ServeSettings;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one list of serve settings ({@link ServeOption}) against the flags, the environment and the docs. */
class ServeOptionsTest {
    /** Flags of berth serve that are not serve settings: help, the config file, the registry client's. */
    private static final Set<String> NOT_SETTINGS = Set.of("--help", "--version", "--config", "--insecure-registry");

    private static CommandSpec serve() {
        return BerthMain.commandLine().getSubcommands().get("serve").getCommandSpec();
    }

    @Test
    void everySettingHasItsFlagAndEveryFlagIsASetting() {
        CommandSpec serve = serve();
        for (ServeOption o : ServeOption.values()) {
            o.flag().ifPresent(f -> assertTrue(serve.findOption(f) != null, "berth serve has " + f));
            for (String alias : o.aliases()) {
                assertTrue(serve.findOption("--" + alias) != null, "berth serve still takes --" + alias);
            }
        }
        Set<String> known = new TreeSet<>(NOT_SETTINGS);
        for (ServeOption o : ServeOption.values()) {
            o.flag().ifPresent(known::add);
            o.aliases().forEach(a -> known.add("--" + a));
        }
        List<String> strays = new ArrayList<>();
        for (OptionSpec option : serve.options()) {
            if (!known.contains(option.longestName())) {
                strays.add(option.longestName());
            }
        }
        assertEquals(List.of(), strays, "flags of berth serve that ServeOption does not declare");
    }

    @Test
    void everySettingIsReadFromItsEnvironmentVariable() {
        for (ServeOption o : ServeOption.values()) {
            var node = ServeSettings.load(null, Map.of(o.env(), "value-of-" + o.key()), Map.of());
            assertEquals("value-of-" + o.key(), node.get(o.key()).asString().orElse(null), o.env());
        }
        assertEquals("9000", ServeSettings.load(null, Map.of("PORT", "9000"), Map.of()).get("port").asString().get());
        assertEquals("9001", ServeSettings.load(null, Map.of("PORT", "9000", "BERTH_PORT", "9001"), Map.of()).get("port").asString().get(),
                "BERTH_PORT wins over PORT");
        assertEquals("7", ServeSettings.load(null, Map.of("BERTH_DRAIN_TIMEOUT_SECONDS", "7"), Map.of())
                .get("drain-timeout-seconds").asString().get(), "the older spelling's variable is read too");
    }

    @Test
    void theDocsTableIsTheGeneratedOne() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "server.md"));
        String start = "<!-- serve-options: generated from ServeOption.markdownTable(); ServeOptionsTest keeps it in step -->\n";
        int from = doc.indexOf(start);
        int to = doc.indexOf("<!-- /serve-options -->");
        assertTrue(from >= 0 && to > from, "docs/server.md has the settings table markers");
        assertEquals(ServeOption.markdownTable(), doc.substring(from + start.length(), to),
                "docs/server.md's settings table: regenerate it from ServeOption.markdownTable()");
    }
}
