package dev.berth.cli;

import dev.berth.registry.ModelManifest;
import dev.berth.registry.Registration;
import dev.berth.runtime.onnx.OnnxSignatureReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code berth register MODEL.onnx|DIR --name NAME ...}: creates the next version and prints its number last. */
@Command(name = "register", mixinStandardHelpOptions = true,
        description = {"Registers a model file (or a folder laid out like the samples) as the model's next version.",
                "A folder contributes model.onnx, metrics.json, hyperparameters.json|.yaml, requirements.txt, lineage.json,",
                "training_log.txt, confusion_matrix.png, split.json, example_request.json and every file under data/;",
                "options given explicitly take precedence. Prints the new version number alone on the last line."})
final class RegisterCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ModelsOption models;

    @Parameters(index = "0", paramLabel = "MODEL.onnx|DIR", description = "The ONNX model file, or a sample-style folder.")
    Path source;
    @Option(names = "--name", required = true, paramLabel = "NAME", description = "Model name: [A-Za-z0-9][A-Za-z0-9_.-]*.")
    String name;
    @Option(names = "--description", paramLabel = "T", description = "Free-text description.")
    String description;
    @Option(names = "--author", paramLabel = "A", description = "Who registers it (default: $USER).")
    String author;
    @Option(names = "--tag", paramLabel = "K=V", description = "A key=value label (repeatable).")
    Map<String, String> tags = new LinkedHashMap<>();
    @Option(names = "--metrics", paramLabel = "FILE", description = "Evaluation metrics, a JSON object.")
    Path metrics;
    @Option(names = "--params", paramLabel = "FILE", description = "Hyperparameters/configuration, JSON or YAML.")
    Path params;
    @Option(names = "--requirements", paramLabel = "FILE", description = "Training dependencies (requirements.txt or similar).")
    Path requirements;
    @Option(names = "--signature", paramLabel = "FILE",
            description = "Signature with column names / class labels (or a lineage.json holding one).")
    Path signature;
    @Option(names = "--data", paramLabel = "FILE_OR_URI", description = "A data file (copied in) or URI (referenced); repeatable.")
    List<String> data = new ArrayList<>();
    @Option(names = "--code", paramLabel = "FILE_OR_URI", description = "Training code: a file (hashed), a git commit or a URL.")
    String code;
    @Option(names = "--artifact", paramLabel = "FILE", description = "A further file to keep (plot, log, sample); repeatable.")
    List<Path> artifacts = new ArrayList<>();
    @Option(names = "--alias", paramLabel = "ALIAS", description = "Point this alias at the new version.")
    String alias;

    @Override
    public Integer call() {
        Registration.Builder b = Files.isDirectory(source) ? Registration.fromFolder(name, source) : Registration.builder(name, source);
        b.name(name);
        if (description != null) {
            b.description(description);
        }
        b.author(author != null ? author : System.getProperty("user.name", ""));
        b.tags(tags);
        if (metrics != null) {
            b.metricsFile(metrics);
        }
        if (params != null) {
            b.paramsFile(params);
        }
        if (requirements != null) {
            b.requirementsFile(requirements);
        }
        if (signature != null) {
            b.signatureFile(signature);
        }
        if (!data.isEmpty()) {
            b.replaceData(data);
        }
        if (code != null) {
            b.code(code);
        }
        artifacts.forEach(b::artifact);
        if (alias != null) {
            b.alias(alias);
        }
        b.runtime(RuntimeFacts.current());
        Registration registration = b.build();

        ModelManifest m = models.registry().register(registration, new OnnxSignatureReader());
        PrintWriter out = spec.commandLine().getOut();
        int stored = m.files().size() + m.artifacts().size()
                + (int) m.lineage().data().stream().filter(d -> d.path() != null).count()
                + (m.lineage().code() != null && m.lineage().code().path() != null ? 1 : 0);
        out.printf("registered %s:%d in %s (%d files, model sha256 %s)%s%n", m.name(), m.version(), models.root(),
                stored, m.modelFile().sha256(), registration.alias().map(a -> ", alias " + a + " -> " + m.version()).orElse(""));
        out.println(m.version());
        return 0;
    }
}
