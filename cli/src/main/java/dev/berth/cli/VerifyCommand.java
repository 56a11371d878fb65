package dev.berth.cli;

import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelRef;
import dev.berth.registry.VerifyReport;
import dev.berth.runtime.onnx.OnnxSignatureReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code berth verify [NAME[:VERSION]]}: re-hashes every file; exit 1 naming each changed or missing file. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Re-hashes every file the manifests list and names each one that changed or is missing (exit 1).",
                "Files are the model, artifacts, data and code. A version without a manifest has its model file loaded by ONNX Runtime instead.",
                "Without NAME, checks every model; NAME alone, every version of it."})
final class VerifyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ModelsOption models;
    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME[:VERSION|@ALIAS]")
    String ref;

    @Override
    public Integer call() {
        LocalRegistry registry = models.existingRegistry();
        // a version laid down without a manifest has no hash: its model file must at least load in ONNX Runtime
        OnnxSignatureReader reader = new OnnxSignatureReader();
        VerifyReport report;
        if (ref == null) {
            report = registry.verify(reader);
        } else {
            ModelRef r = ModelRef.parse(ref);
            report = r.version().isEmpty() && r.alias().isEmpty() ? registry.verify(r.name(), reader)
                    : registry.verify(r.name(), registry.resolve(r), reader);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int files = 0;
        for (VerifyReport.Checked c : report.versions()) {
            files += c.files();
            long bad = report.problems().stream().filter(p -> p.model().equals(c.model()) && p.version() == c.version()).count();
            out.printf("%s %s:%d (%s)%n", bad == 0 ? "ok    " : "FAILED", c.model(), c.version(),
                    c.hasManifest() ? Sizes.count(c.files(), "file") : "no manifest; model file read by ONNX Runtime");
        }
        for (VerifyReport.Problem p : report.problems()) {
            err.printf("%s %s:%d %s: %s%n", p.kind(), p.model(), p.version(), p.path(), p.detail());
        }
        out.printf("verified %s, %s: %s%n", Sizes.count(report.versions().size(), "version"), Sizes.count(files, "file"),
                report.ok() ? "all match" : Sizes.count(report.problems().size(), "problem"));
        return report.ok() ? 0 : ErrorHandler.FAILURE;
    }
}
