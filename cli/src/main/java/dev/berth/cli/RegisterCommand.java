package dev.berth.cli;

import dev.berth.registry.ModelManifest;
import dev.berth.registry.Registration;
import dev.berth.runtime.onnx.OnnxSignatureReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
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
        description = {"Registers a model file, or a folder holding model.onnx, as the model's next version.",
                "A folder keeps every file: metrics.json, hyperparameters.json|.yaml, requirements.txt and lineage.json",
                "take their roles, files under data/ are data, all others (logs, plots, ...) are artifacts; hidden files",
                "and --exclude globs are left out. Options given explicitly take precedence. Identical content registered",
                "again is refused unless --allow-duplicate. Lists what it stored; prints the new version number last."})
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
    @Option(names = "--exclude", paramLabel = "GLOB",
            description = "Leave out a folder's files matching GLOB (repeatable): '*.pt' or 'checkpoints' at any depth, 'runs/**' by path.")
    List<String> excludes = new ArrayList<>();
    @Option(names = "--allow-duplicate", description = "Make a new version even when an existing one holds exactly the same files.")
    boolean allowDuplicate;

    @Override
    public Integer call() {
        boolean folder = Files.isDirectory(source);
        if (!folder && !excludes.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "--exclude applies to a folder; " + source + " is a file");
        }
        Registration.Builder b = folder ? Registration.fromFolder(name, source, excludes) : Registration.builder(name, source);
        b.name(name).allowDuplicate(allowDuplicate);
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
        List<StoredFiles.Row> rows = StoredFiles.of(m, registration);
        int width = rows.stream().mapToInt(row -> row.path().length()).max().orElse(0);
        for (StoredFiles.Row row : rows) {
            out.printf("  %-" + width + "s  %-12s %9s%n", row.path(), row.role(), row.size() < 0 ? "" : Sizes.human(row.size()));
        }
        out.printf("registered %s:%d in %s (%s, model sha256 %s)%s%n", m.name(), m.version(), models.root(),
                Sizes.count(rows.size(), "file"), m.modelFile().sha256(),
                registration.alias().map(a -> ", alias " + a + " -> " + m.version()).orElse(""));
        out.println(m.version());
        return 0;
    }
}
