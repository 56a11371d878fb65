package dev.berth.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Two model versions side by side: metrics, parameters, signature, dependencies, data
 * fingerprints and code, one row per key that either side has.
 *
 * @param left    the reference of the left version, e.g. {@code churn:1}
 * @param right   the reference of the right version
 * @param entries every row, in section order then key order
 */
public record ManifestDiff(String left, String right, List<Entry> entries) {
    /** Section names in display order. */
    public static final List<String> SECTIONS = List.of("model", "metrics", "params", "signature", "dependencies", "data", "code");

    public ManifestDiff {
        entries = List.copyOf(entries);
    }

    /**
     * One row: a value on each side, null where that side lacks the key. Nested values are
     * flattened to dotted keys ({@code confusion_matrix.labels}); lists are shown as compact JSON.
     */
    public record Entry(String section, String key, String left, String right) {
        /** Whether the two sides hold different values (a missing side differs from a present one). */
        public boolean differs() {
            return !Objects.equals(left, right);
        }
    }

    /** Rows whose two sides differ. */
    public List<Entry> differences() {
        return entries.stream().filter(Entry::differs).toList();
    }

    /** Whether no row differs. */
    public boolean identical() {
        return differences().isEmpty();
    }

    /** Compares two manifests; the model names may differ (comparing across models is allowed). */
    public static ManifestDiff between(ModelManifest a, ModelManifest b) {
        List<Entry> rows = new ArrayList<>();
        section(rows, "model", model(a), model(b));
        section(rows, "metrics", flatten(a.metrics()), flatten(b.metrics()));
        section(rows, "params", flatten(a.params()), flatten(b.params()));
        section(rows, "signature", signature(a.signature()), signature(b.signature()));
        section(rows, "dependencies", dependencies(a.dependencies()), dependencies(b.dependencies()));
        section(rows, "data", data(a.lineage()), data(b.lineage()));
        section(rows, "code", code(a.lineage().code()), code(b.lineage().code()));
        return new ManifestDiff(a.name() + ":" + a.version(), b.name() + ":" + b.version(), rows);
    }

    private static void section(List<Entry> rows, String section, Map<String, String> a, Map<String, String> b) {
        // Keep each side's own order where it has one (signature order matters), then the other side's extra keys.
        LinkedHashMap<String, Boolean> keys = new LinkedHashMap<>();
        a.keySet().forEach(k -> keys.put(k, true));
        b.keySet().forEach(k -> keys.put(k, true));
        for (String k : keys.keySet()) {
            rows.add(new Entry(section, k, a.get(k), b.get(k)));
        }
    }

    private static Map<String, String> model(ModelManifest m) {
        Map<String, String> out = new LinkedHashMap<>();
        if (!m.files().isEmpty()) {
            out.put("sha256", m.modelFile().sha256());
            out.put("size", Long.toString(m.modelFile().size()));
        }
        out.put("author", m.author().isEmpty() ? null : m.author());
        out.put("description", m.description().isEmpty() ? null : m.description());
        new TreeMap<>(m.tags()).forEach((k, v) -> out.put("tag " + k, v));
        out.values().removeIf(Objects::isNull);
        return out;
    }

    private static Map<String, String> flatten(Map<String, Object> values) {
        Map<String, String> out = new LinkedHashMap<>();
        flatten("", RegistryJson.mapper().valueToTree(values), out);
        return out;
    }

    private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
        if (node.isObject()) {
            TreeSet<String> names = new TreeSet<>();
            node.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                flatten(prefix.isEmpty() ? name : prefix + "." + name, node.get(name), out);
            }
        } else if (node.isValueNode()) {
            out.put(prefix, node.isTextual() ? node.asText() : node.toString());
        } else {
            out.put(prefix, compact(node));
        }
    }

    private static String compact(JsonNode node) {
        try {
            return RegistryJson.mapper().writer().without(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(node);
        } catch (JsonProcessingException e) {
            return node.toString();
        }
    }

    private static Map<String, String> signature(Signature s) {
        Map<String, String> out = new LinkedHashMap<>();
        if (s == null) {
            return out;
        }
        for (TensorSpec t : s.inputs()) {
            tensor(out, "input " + t.name(), t);
        }
        for (TensorSpec t : s.outputs()) {
            tensor(out, "output " + t.name(), t);
        }
        return out;
    }

    private static void tensor(Map<String, String> out, String key, TensorSpec t) {
        out.put(key, t.datatype() + " " + t.shape());
        if (!t.columns().isEmpty()) {
            out.put(key + " columns", String.join(",", t.columns()));
        }
        if (!t.labels().isEmpty()) {
            out.put(key + " labels", String.join(",", t.labels()));
        }
    }

    private static Map<String, String> dependencies(ModelManifest.Dependencies d) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : d.requirements()) {
            int cut = 0;
            while (cut < line.length() && "=<>!~;[ @".indexOf(line.charAt(cut)) < 0) {
                cut++;
            }
            String name = line.substring(0, cut).trim();
            out.put(name.isEmpty() ? line : name, cut < line.length() ? line.substring(cut).trim() : "(any)");
        }
        new TreeMap<>(d.runtime()).forEach((k, v) -> out.put("runtime " + k, v));
        return out;
    }

    private static Map<String, String> data(ModelManifest.Lineage lineage) {
        Map<String, String> out = new LinkedHashMap<>();
        for (ModelManifest.DataRef d : lineage.data()) {
            String key = d.name() != null ? d.name() : d.uri();
            out.put(key, d.sha256() != null ? d.sha256() : d.uri() != null ? d.uri() : "(no fingerprint)");
        }
        return out;
    }

    private static Map<String, String> code(ModelManifest.CodeRef code) {
        Map<String, String> out = new LinkedHashMap<>();
        if (code == null) {
            return out;
        }
        if (code.file() != null) {
            out.put("file", code.file());
        }
        if (code.sha256() != null) {
            out.put("sha256", code.sha256());
        }
        if (code.gitCommit() != null) {
            out.put("git_commit", code.gitCommit());
        }
        if (code.uri() != null) {
            out.put("uri", code.uri());
        }
        return out;
    }
}
