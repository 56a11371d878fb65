package dev.berth.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.berth.oci.OciReference;
import dev.berth.registry.FileEntry;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelInfo;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.ModelRef;
import dev.berth.registry.RegistryJson;
import dev.berth.registry.ServingConfig;
import dev.berth.registry.ServingLayout;
import dev.berth.registry.TensorSpec;
import dev.berth.runtime.onnx.OnnxSignatureReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** {@code berth show NAME[:VERSION|@ALIAS] [--json]}: everything the manifest holds. */
@Command(name = "show", mixinStandardHelpOptions = true,
        description = {"Shows everything recorded for a model version, and its monitoring reports.",
                "A bare NAME means the production alias, else the highest version. --json prints the manifest itself."})
final class ShowCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ModelsOption models;
    @Parameters(index = "0", paramLabel = "NAME[:VERSION|@ALIAS]|REGISTRY/REPOSITORY[:TAG]")
    String ref;
    @Option(names = "--json", description = "Print the manifest (manifest.json) itself.")
    boolean json;
    @Mixin
    RegistryOptions registryOptions;

    @Override
    public Integer call() throws IOException {
        if (OciReference.looksRemote(ref)) {
            return RemoteCommands.show(ref, registryOptions, json, spec.commandLine().getOut());
        }
        LocalRegistry registry = models.existingRegistry();
        ModelRef r = ModelRef.parse(ref);
        int version = registry.resolve(r);
        ModelManifest m = registry.manifest(r.name(), version, new OnnxSignatureReader());
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Path stored = registry.versionDir(r.name(), version).resolve(LocalRegistry.MANIFEST_FILE);
            // The stored file verbatim where there is one: "the manifest itself", byte for byte.
            out.println(Files.exists(stored) ? Files.readString(stored).stripTrailing() : RegistryJson.mapper().writeValueAsString(m));
            return 0;
        }
        ModelInfo info = registry.info(r.name());
        boolean hasManifest = registry.storedManifest(r.name(), version).isPresent();
        out.println(m.name() + ":" + m.version() + (hasManifest ? "" : "  (no manifest: laid down without berth; described from the model file)"));
        List<String[]> head = new ArrayList<>();
        head.add(row("created", String.valueOf(m.created())));
        head.add(row("author", m.author()));
        head.add(row("description", m.description()));
        head.add(row("tags", m.tags().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "))));
        String aliases = info.aliases().entrySet().stream().filter(e -> e.getValue().references(version))
                .map(e -> e.getKey() + (e.getValue().isSplit() ? " (" + Refs.target(e.getValue()) + ")" : ""))
                .collect(Collectors.joining(", "));
        head.add(row("aliases", aliases));
        head.add(row("model description", info.description()));
        if (m.serving() != null) {
            head.add(row("serving", compact(m.serving())));
        }
        head.add(row("serving layout", layout(registry, info, r.name(), version)));
        indent(out, head);

        out.println("files");
        List<String[]> files = new ArrayList<>();
        for (FileEntry f : m.files()) {
            files.add(new String[] {f.path(), f.size() + " B", "sha256 " + f.sha256()});
        }
        indent(out, files);

        out.println("signature");
        List<String[]> sig = new ArrayList<>();
        for (TensorSpec t : m.signature().inputs()) {
            sig.add(tensor("input", t));
        }
        for (TensorSpec t : m.signature().outputs()) {
            sig.add(tensor("output", t));
        }
        indent(out, sig);

        section(out, "metrics", m.metrics());
        section(out, "params", m.params());

        out.println("dependencies");
        List<String[]> deps = new ArrayList<>();
        if (m.dependencies().requirementsFile() != null) {
            deps.add(row("requirements", m.dependencies().requirementsFile()));
        }
        m.dependencies().requirements().forEach(l -> deps.add(row("", l)));
        new TreeMap<>(m.dependencies().runtime()).forEach((k, v) -> deps.add(row("runtime " + k, v)));
        indent(out, deps);

        out.println("lineage");
        List<String[]> lin = new ArrayList<>();
        for (ModelManifest.DataRef d : m.lineage().data()) {
            String where = d.path() != null ? d.path() : d.uri() != null ? d.uri() : "(not stored)";
            lin.add(new String[] {"data " + d.name(), where, d.sha256() == null ? "" : "sha256 " + d.sha256()});
        }
        ModelManifest.CodeRef code = m.lineage().code();
        if (code != null) {
            List<String> parts = new ArrayList<>();
            if (code.file() != null) parts.add(code.file());
            if (code.path() != null) parts.add("stored as " + code.path());
            if (code.uri() != null) parts.add(code.uri());
            if (code.gitCommit() != null) parts.add("git " + code.gitCommit());
            if (code.sha256() != null) parts.add("sha256 " + code.sha256());
            lin.add(new String[] {"code", String.join("  ", parts)});
        }
        flatten("", RegistryJson.mapper().valueToTree(m.lineage().extra()), lin);
        indent(out, lin);

        out.println("artifacts");
        List<String[]> arts = new ArrayList<>();
        for (FileEntry f : m.artifacts()) {
            arts.add(new String[] {f.path(), f.size() + " B", "sha256 " + f.sha256()});
        }
        indent(out, arts);

        out.println("monitoring reports");
        List<String[]> reports = new ArrayList<>();
        for (Path p : registry.monitoringReports(r.name(), version)) {
            reports.add(new String[] {registry.root().relativize(p).toString(), Files.size(p) + " B",
                    String.valueOf(Files.getLastModifiedTime(p).toInstant())});
        }
        indent(out, reports);

        out.println("performance reports (berth perf)");
        indent(out, PerfTables.showRows(registry, r.name(), version));
        return 0;
    }

    /** How a server runs the version: the layout it measured ({@code layout: auto}), or the one the serving config fixes. */
    private static String layout(LocalRegistry registry, ModelInfo info, String model, int version) {
        ServingConfig config = info.servingFor(registry.storedManifest(model, version).orElse(null));
        if (!config.autoLayout()) {
            return "fixed by the serving config: " + config.sessions() + " x " + config.intraOpThreads()
                    + " (sessions x intra-op threads)";
        }
        return registry.servingLayout(model, version).map(ServingLayout::describe)
                .orElse("auto: measured when a server first loads it (until then " + config.sessions() + " x "
                        + config.intraOpThreads() + ", sessions x intra-op threads)");
    }

    private static String[] row(String k, String v) {
        return new String[] {k, v == null || v.isEmpty() ? "-" : v};
    }

    private static String[] tensor(String kind, TensorSpec t) {
        StringBuilder extra = new StringBuilder();
        if (!t.columns().isEmpty()) {
            extra.append("columns: ").append(String.join(", ", t.columns()));
        }
        if (!t.labels().isEmpty()) {
            extra.append(extra.isEmpty() ? "" : "; ").append("labels: ").append(String.join(", ", t.labels()));
        }
        return new String[] {kind, t.name(), t.datatype() + " " + t.shape(), extra.toString()};
    }

    private static void section(PrintWriter out, String title, Map<String, Object> values) {
        out.println(title);
        List<String[]> rows = new ArrayList<>();
        flatten("", RegistryJson.mapper().valueToTree(values), rows);
        indent(out, rows);
    }

    static void flatten(String prefix, JsonNode node, List<String[]> rows) {
        if (node.isObject()) {
            TreeSet<String> names = new TreeSet<>();
            node.fieldNames().forEachRemaining(names::add);
            for (String n : names) {
                flatten(prefix.isEmpty() ? n : prefix + "." + n, node.get(n), rows);
            }
        } else {
            rows.add(new String[] {prefix, node.isTextual() ? node.asText() : node.toString()});
        }
    }

    private static String compact(Object value) throws JsonProcessingException {
        return RegistryJson.mapper().writer().without(SerializationFeature.INDENT_OUTPUT)
                .writeValueAsString(value);
    }

    private static void indent(PrintWriter out, List<String[]> rows) {
        if (rows.isEmpty()) {
            out.println("  (none)");
            return;
        }
        StringWriter buffer = new StringWriter();
        Table.print(new PrintWriter(buffer), rows);
        buffer.toString().lines().forEach(l -> out.println("  " + l));
    }
}
