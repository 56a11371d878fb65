package dev.berth.packager;

import dev.berth.registry.ModelInfo;
import dev.berth.registry.ModelManifest;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The labels of a model image: OCI's standard annotations and berth's own. */
final class ImageLabels {
    static final String OCI = "org.opencontainers.image.";
    static final String BERTH = "dev.berth.";
    /** Metrics shown as labels when the version has them; others stay in the manifest inside the image. */
    private static final List<String> HEADLINE = List.of("accuracy", "roc_auc", "f1", "f1_macro", "precision_macro",
            "recall_macro", "rmse", "mae", "r2");

    private ImageLabels() {
    }

    static Map<String, String> of(ModelManifest manifest, ModelInfo info, Instant created, ServerJars server,
                                  BaseImage base, Map<String, String> extra) {
        Map<String, String> labels = new TreeMap<>();
        String ref = manifest.name() + ":" + manifest.version();
        labels.put(OCI + "created", DateTimeFormatter.ISO_INSTANT.format(created));
        labels.put(OCI + "version", Integer.toString(manifest.version()));
        labels.put(OCI + "title", ref);
        String description = !manifest.description().isBlank() ? manifest.description()
                : !info.description().isBlank() ? info.description()
                : "Open Inference Protocol server for model " + ref;
        labels.put(OCI + "description", oneLine(description));
        ModelManifest.CodeRef code = manifest.lineage().code();
        String sha = manifest.files().isEmpty() ? null : manifest.modelFile().sha256();
        // the revision of what is packaged: the training code's commit where recorded, else the model file itself
        String revision = code != null && code.gitCommit() != null ? code.gitCommit() : sha == null ? "unknown" : "sha256:" + sha;
        labels.put(OCI + "revision", revision);
        String source = code != null && code.uri() != null ? code.uri() : "berth-registry:" + manifest.name() + "/" + manifest.version();
        labels.put(OCI + "source", source);
        if (base instanceof BaseImage.Reference r) {
            labels.put(OCI + "base.name", r.reference());
        }
        labels.put(BERTH + "version", server.version());
        labels.put(BERTH + "model.name", manifest.name());
        labels.put(BERTH + "model.version", Integer.toString(manifest.version()));
        if (sha != null) {
            labels.put(BERTH + "model.sha256", sha);
        }
        StringBuilder headline = new StringBuilder();
        for (String key : HEADLINE) {
            if (manifest.metrics().get(key) instanceof Number n) {
                String value = number(n);
                labels.put(BERTH + "model.metric." + key, value);
                headline.append(headline.isEmpty() ? "" : ",").append(key).append('=').append(value);
            }
        }
        Map.Entry<String, Number> first = manifest.headlineMetric();
        if (headline.isEmpty() && first != null) {
            labels.put(BERTH + "model.metric." + first.getKey(), number(first.getValue()));
            headline.append(first.getKey()).append('=').append(number(first.getValue()));
        }
        if (!headline.isEmpty()) {
            labels.put(BERTH + "model.metrics", headline.toString());
        }
        labels.putAll(extra);
        return labels;
    }

    private static String number(Number n) {
        return new BigDecimal(n.toString()).stripTrailingZeros().toPlainString();
    }

    private static String oneLine(String text) {
        return text.strip().replaceAll("\\s+", " ");
    }
}
