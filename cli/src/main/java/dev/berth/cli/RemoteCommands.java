package dev.berth.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.berth.monitoring.MonitoringReport;
import dev.berth.oci.OciClient;
import dev.berth.oci.OciLayout;
import dev.berth.oci.OciReference;
import dev.berth.oci.OciReports;
import dev.berth.oci.RemoteRepository;
import dev.berth.registry.InvalidArgumentException;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.ModelRef;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@code list}, {@code show} and {@code alias} on a model's OCI repository instead of the local
 * folder (the argument has a '/'): tags and manifests are read, layers never.
 */
final class RemoteCommands {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private RemoteCommands() {
    }

    /** {@code berth list REGISTRY/REPOSITORY}: versions with created, author, headline metric; aliases. */
    static int list(String text, RegistryOptions options, boolean json, PrintWriter out) throws IOException {
        OciReference ref = OciReference.parse(text);
        RemoteRepository repo = RemoteRepository.of(options.client(ref), ref);
        RemoteRepository.Listing listing = repo.listing();
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("repository", repo.reference().toString());
            Map<String, Object> versions = new LinkedHashMap<>();
            listing.versions().forEach((v, m) -> versions.put(Integer.toString(v), Map.of("digest", m.digest(), "annotations", m.annotations())));
            doc.put("versions", versions);
            doc.put("aliases", listing.aliases());
            out.println(JSON.writeValueAsString(doc));
            return 0;
        }
        if (listing.versions().isEmpty()) {
            out.println("no berth versions in " + repo.reference());
            return 0;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"VERSION", "CREATED", "AUTHOR", "METRICS", "ALIASES", "DIGEST"});
        listing.versions().forEach((v, m) -> {
            String aliases = listing.aliases().entrySet().stream().filter(e -> e.getValue().equals(v)).map(Map.Entry::getKey)
                    .collect(Collectors.joining(","));
            String metrics = m.annotations().entrySet().stream().filter(e -> e.getKey().startsWith("dev.berth.metric."))
                    .limit(2).map(e -> e.getKey().substring("dev.berth.metric.".length()) + "=" + e.getValue()).collect(Collectors.joining(" "));
            rows.add(new String[] {Integer.toString(v), m.annotations().getOrDefault("org.opencontainers.image.created", "-"),
                    m.annotations().getOrDefault("org.opencontainers.image.authors", "-"), metrics.isEmpty() ? "-" : metrics,
                    aliases.isEmpty() ? "-" : aliases, m.digest().substring(0, 19)});
        });
        out.println(repo.reference());
        Table.print(out, rows);
        return 0;
    }

    /** {@code berth show REGISTRY/REPOSITORY[:TAG|@DIGEST]}: the version's manifest.json and its layers. */
    static int show(String text, RegistryOptions options, boolean json, PrintWriter out) {
        OciReference ref = OciReference.parse(text);
        RemoteRepository repo = RemoteRepository.of(options.client(ref), ref);
        String reference = ref.reference().orElseGet(repo::defaultReference);
        RemoteRepository.RemoteVersion v = repo.version(reference);
        if (json) {
            out.println(new String(v.config(), StandardCharsets.UTF_8).stripTrailing());
            return 0;
        }
        ModelManifest m = v.version();
        out.println(m.name() + ":" + m.version() + "  " + repo.reference() + "@" + v.manifest().digest());
        line(out, "created", m.created() == null ? "-" : m.created().toString());
        line(out, "author", m.author().isEmpty() ? "-" : m.author());
        line(out, "description", m.description().isEmpty() ? "-" : m.description());
        String metrics = m.metrics().entrySet().stream().filter(e -> e.getValue() instanceof Number)
                .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
        line(out, "metrics", metrics.isEmpty() ? "-" : metrics);
        line(out, "signature", "in: " + m.signature().inputs().stream().map(t -> t.name() + " " + t.datatype() + " " + t.shape())
                .collect(Collectors.joining(", ")) + "; out: " + m.signature().outputs().stream()
                .map(t -> t.name() + " " + t.datatype() + " " + t.shape()).collect(Collectors.joining(", ")));
        out.println("layers (" + v.manifest().layers().size() + ", not downloaded):");
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"PATH", "SIZE", "DIGEST"});
        for (OciLayout.RemoteLayer l : v.manifest().layers()) {
            rows.add(new String[] {"  " + l.title(), Long.toString(l.size()), l.digest()});
        }
        Table.print(out, rows);
        return 0;
    }

    private static void line(PrintWriter out, String key, String value) {
        out.println("  " + Refs.pad(key, 12) + value);
    }

    /** The reports of a remote version, with the title to show them under. */
    record RemoteReports(String title, List<MonitoringReport> reports) {
    }

    /** {@code berth report REGISTRY/REPOSITORY[:TAG]}: the reports stored as referrers of the version, from every server. */
    static RemoteReports reports(String text, RegistryOptions options, PrintWriter err) throws IOException {
        OciReference ref = OciReference.parse(text);
        OciClient client = options.client(ref);
        RemoteRepository repo = RemoteRepository.of(client, ref);
        RemoteRepository.RemoteVersion v = repo.version(ref.reference().orElseGet(repo::defaultReference));
        List<MonitoringReport> reports = new ArrayList<>();
        Path tmp = Files.createTempFile("berth-report-", ".json");
        try {
            for (OciReports.Report r : OciReports.list(client, ref.repository(), v.manifest().digest())) {
                try {
                    Files.write(tmp, OciReports.fetch(client, ref.repository(), r));
                    reports.add(MonitoringReport.read(tmp));
                } catch (IOException | RuntimeException e) {
                    // one damaged report must not hide the others
                    err.println("skipped report " + r.file() + " from " + r.source() + ": " + e.getMessage().lines().findFirst().orElse(""));
                }
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        reports.sort(Comparator.comparing(MonitoringReport::start));
        return new RemoteReports(v.version().name() + ":" + v.version().version() + " (" + repo.reference() + ")", reports);
    }

    /** {@code berth alias REGISTRY/REPOSITORY ALIAS VERSION}: moves the alias tag. */
    static int alias(String text, String alias, List<String> versions, boolean delete, RegistryOptions options, PrintWriter out) {
        OciReference ref = OciReference.parse(text);
        if (ref.tag() != null || ref.digest() != null) {
            throw new InvalidArgumentException("give the repository without a tag: " + ref.repositoryOnly());
        }
        if (delete) {
            throw new InvalidArgumentException("removing an alias tag is not supported by berth (registries delete manifests, not tags);"
                    + " point it at another version instead");
        }
        if (versions.size() != 1 || versions.get(0).contains("=")) {
            throw new InvalidArgumentException("a remote alias is a tag and points at one version: berth alias " + ref + " " + alias + " VERSION");
        }
        int version = ModelRef.parseVersion(versions.get(0));
        String digest = RemoteRepository.of(options.client(ref), ref).moveAlias(alias, version);
        out.println(ref + ":" + alias + " -> " + version + " " + digest);
        return 0;
    }
}
