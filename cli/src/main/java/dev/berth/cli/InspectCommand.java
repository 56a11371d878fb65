package dev.berth.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.oci.OciClient;
import dev.berth.oci.OciReference;
import dev.berth.packager.ImageContents;
import dev.berth.packager.ImageInspector;
import dev.berth.packager.ImagePackager;
import dev.berth.registry.FileEntry;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.ModelNotFoundException;
import dev.berth.registry.RegistryException;
import dev.berth.registry.RegistryJson;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/**
 * {@code berth inspect IMAGE}: the model version a serving image carries, recovered from the image's
 * layers, every file checked against the packaged manifest and, with {@code --against}, against the
 * registry copy of the same version.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Reads a serving image built by berth package and prints the model version it carries.",
                "The image is a registry reference or a tarball (tar:FILE or a .tar path). Prints the version's manifest,",
                "dependencies, labels and the sha256 of every file, each checked against the digest the packaged manifest",
                "records. With --against, the version's manifest in a registry (a folder, or oci://REGISTRY/REPOSITORY)",
                "must match too. Exit 1 names each difference."})
final class InspectCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;
    @Mixin
    RegistryOptions registryOptions;
    @Parameters(index = "0", paramLabel = "IMAGE")
    String image;
    @Option(names = "--against", paramLabel = "REGISTRY",
            description = "Also compare with this registry's copy of the version: a registry folder or oci://REGISTRY/REPOSITORY.")
    String against;
    @Option(names = "--json", description = "Print one JSON document instead of tables.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        Optional<Path> tar = ImageInspector.tarball(image);
        ImageContents contents = tar.isPresent() ? ImageInspector.fromTar(tar.get())
                : ImageInspector.fromRegistry(registryOptions.client(OciReference.parse(image)), OciReference.parse(image));
        ModelManifest m = contents.manifest();
        List<String> problems = new ArrayList<>();
        List<ImageContents.FileCheck> checks = contents.checks();
        for (ImageContents.FileCheck c : checks) {
            if (!c.ok() && c.recorded() != null) {
                problems.add(c.path() + ": " + (c.inImage() == null ? "listed in the manifest, not in the image"
                        : "sha256 " + c.inImage() + " in the image, " + c.recorded() + " in the manifest"));
            }
        }
        String registryLabel = null;
        if (against != null) {
            registryLabel = against;
            problems.addAll(compare(contents, registryCopy(m.name(), m.version())));
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(document(contents, checks, problems)));
        } else {
            print(out, contents, checks, registryLabel);
        }
        PrintWriter err = spec.commandLine().getErr();
        problems.forEach(p -> err.println("DIFFERS " + p));
        long held = checks.stream().filter(c -> c.inImage() != null).count();
        String verdict = problems.isEmpty()
                ? m.name() + ":" + m.version() + ": the image holds what its manifest records (" + held + (held == 1 ? " file" : " files")
                        + (registryLabel == null ? ")" : ") and matches " + registryLabel)
                : m.name() + ":" + m.version() + ": " + problems.size() + (problems.size() == 1 ? " difference" : " differences");
        (json ? err : out).println(verdict);
        return problems.isEmpty() ? 0 : ErrorHandler.FAILURE;
    }

    /** The registry's manifest of NAME:VERSION (from a folder, or the config blob of the version's tag in an OCI repository). */
    private ModelManifest registryCopy(String name, int version) throws IOException {
        if (against.startsWith("oci://")) {
            OciReference repo = OciReference.parse(against.substring("oci://".length())).withTag(Integer.toString(version));
            OciClient client = registryOptions.client(repo);
            JsonNode manifest = client.manifest(repo.repository(), Integer.toString(version))
                    .orElseThrow(() -> new ModelNotFoundException("no version " + version + " at " + repo)).json();
            byte[] config = client.blob(repo.repository(), manifest.path("config").path("digest").asText(), 16 << 20);
            return RegistryJson.mapper().readValue(config, ModelManifest.class);
        }
        LocalRegistry registry = LocalRegistry.open(Path.of(against));
        return registry.storedManifest(name, version)
                .orElseThrow(() -> new RegistryException(name + ":" + version + " in " + against
                        + " has no manifest to compare with"));
    }

    /** Each file whose digest differs between the image's manifest and the registry's, and files only one of them lists. */
    static List<String> compare(ImageContents contents, ModelManifest registry) {
        List<String> problems = new ArrayList<>();
        Map<String, String> inImage = new TreeMap<>();
        contents.manifest().storedFiles().forEach(f -> inImage.put(f.path(), f.sha256()));
        Map<String, String> inRegistry = new TreeMap<>();
        registry.storedFiles().forEach(f -> inRegistry.put(f.path(), f.sha256()));
        for (Map.Entry<String, String> e : inRegistry.entrySet()) {
            String mine = inImage.get(e.getKey());
            if (mine == null) {
                problems.add(e.getKey() + ": in the registry's manifest, not in the image's");
            } else if (!mine.equals(e.getValue())) {
                problems.add(e.getKey() + ": sha256 " + mine + " in the image, " + e.getValue() + " in the registry");
            }
        }
        inImage.keySet().stream().filter(k -> !inRegistry.containsKey(k))
                .forEach(k -> problems.add(k + ": in the image's manifest, not in the registry's"));
        return problems;
    }

    private static void print(PrintWriter out, ImageContents c, List<ImageContents.FileCheck> checks, String registry) throws IOException {
        ModelManifest m = c.manifest();
        List<String[]> head = new ArrayList<>();
        head.add(new String[] {"image", c.source() + (c.imageDigest() == null ? "" : "@" + c.imageDigest())});
        head.add(new String[] {"model", m.name() + ":" + m.version()});
        head.add(new String[] {"created", String.valueOf(m.created())});
        head.add(new String[] {"author", m.author() == null ? "-" : m.author()});
        FileEntry model = m.modelFile();
        head.add(new String[] {"model file", model.path() + " sha256:" + model.sha256()});
        head.add(new String[] {"compared with", registry == null ? "the packaged manifest (--against REGISTRY adds the registry's copy)"
                : "the packaged manifest and " + registry});
        new TreeMap<>(c.labels()).entrySet().stream().filter(e -> e.getKey().startsWith("dev.berth.") || e.getKey().startsWith("org.opencontainers."))
                .forEach(e -> head.add(new String[] {"label", e.getKey() + "=" + e.getValue()}));
        Table.print(out, head);
        out.println();
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"FILE", "SIZE", "SHA256", "STATE"});
        for (ImageContents.FileCheck f : checks) {
            String sha = f.inImage() != null ? f.inImage() : f.recorded();
            rows.add(new String[] {f.path(), f.size() == null ? "-" : Long.toString(f.size()), sha == null ? "-" : sha.substring(0, 12), f.state()});
        }
        Table.print(out, rows);
        if (c.dependencies() != null) {
            // the runtime facts and a count here; every jar with its coordinates is in --json
            JsonNode deps = JSON.readTree(c.dependencies());
            List<String[]> rows2 = new ArrayList<>();
            deps.path("runtime").fields().forEachRemaining(e -> rows2.add(new String[] {e.getKey(), e.getValue().asText()}));
            rows2.add(new String[] {"jars", deps.path("jars").size() + " (--json lists them)"});
            out.println();
            out.println("dependencies (" + ImagePackager.DEPENDENCIES_PATH + "):");
            Table.print(out, rows2.stream().map(r -> new String[] {"  " + r[0], r[1]}).toList());
        }
    }

    private static ObjectNode document(ImageContents c, List<ImageContents.FileCheck> checks, List<String> problems) throws IOException {
        ObjectNode doc = JSON.createObjectNode();
        doc.put("image", c.source());
        doc.put("digest", c.imageDigest());
        doc.set("labels", JSON.valueToTree(c.labels()));
        doc.set("manifest", JSON.readTree(c.manifestJson()));
        doc.set("dependencies", c.dependencies() == null ? null : JSON.readTree(c.dependencies()));
        ArrayNode files = doc.putArray("files");
        for (ImageContents.FileCheck f : checks) {
            ObjectNode o = files.addObject();
            o.put("path", f.path());
            o.put("size", f.size());
            o.put("sha256", f.inImage());
            o.put("recorded", f.recorded());
            o.put("state", f.state());
        }
        doc.set("problems", JSON.valueToTree(problems));
        return doc;
    }
}
