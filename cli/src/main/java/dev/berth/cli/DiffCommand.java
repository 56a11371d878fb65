package dev.berth.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ManifestDiff;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.ModelRef;
import dev.berth.registry.RegistryJson;
import dev.berth.runtime.onnx.OnnxSignatureReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code berth diff NAME:V1 NAME:V2}: two versions side by side, differences marked. */
@Command(name = "diff", mixinStandardHelpOptions = true,
        description = {"Compares two versions, of one model or of two, side by side.",
                "Metrics, hyperparameters, signature, dependencies, data fingerprints and code; rows that differ start with '*'."})
final class DiffCommand implements Callable<Integer> {
    private static final int MAX_VALUE = 40;

    @Spec
    CommandSpec spec;
    @Mixin
    ModelsOption models;
    @Parameters(index = "0", paramLabel = "LEFT", description = "NAME[:VERSION|@ALIAS]")
    String left;
    @Parameters(index = "1", paramLabel = "RIGHT", description = "NAME[:VERSION|@ALIAS]")
    String right;
    @Option(names = "--only-differences", description = "Show only the rows that differ.")
    boolean onlyDifferences;
    @Option(names = "--json", description = "Print the comparison as JSON.")
    boolean json;

    @Override
    public Integer call() throws JsonProcessingException {
        LocalRegistry registry = models.existingRegistry();
        OnnxSignatureReader reader = new OnnxSignatureReader();
        ModelManifest a = manifest(registry, ModelRef.parse(left), reader);
        ModelManifest b = manifest(registry, ModelRef.parse(right), reader);
        ManifestDiff diff = ManifestDiff.between(a, b);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectNode node = RegistryJson.mapper().valueToTree(diff);
            node.set("perf", PerfTables.diffJson(registry, a.name(), a.version(), b.name(), b.version()));
            out.println(RegistryJson.mapper().writeValueAsString(node));
            return 0;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {" ", "", diff.left(), diff.right()});
        for (String section : ManifestDiff.SECTIONS) {
            List<ManifestDiff.Entry> entries = diff.entries().stream()
                    .filter(e -> e.section().equals(section))
                    .filter(e -> !onlyDifferences || e.differs())
                    .toList();
            if (entries.isEmpty()) {
                continue;
            }
            rows.add(new String[] {" ", section, "", ""});
            for (ManifestDiff.Entry e : entries) {
                rows.add(new String[] {e.differs() ? "*" : " ", "  " + e.key(),
                        Refs.abbreviate(e.left(), MAX_VALUE), Refs.abbreviate(e.right(), MAX_VALUE)});
            }
        }
        Table.print(out, rows);
        int n = diff.differences().size();
        PerfTables.printDiff(out, registry, a.name(), a.version(), b.name(), b.version());
        out.println(n == 0 ? "no differences" : n + (n == 1 ? " difference" : " differences"));
        return 0;
    }

    private static ModelManifest manifest(LocalRegistry registry, ModelRef ref, OnnxSignatureReader reader) {
        int version = registry.resolve(ref);
        return registry.manifest(ref.name(), version, reader);
    }
}
