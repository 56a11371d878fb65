package dev.berth.oci;

import dev.berth.registry.AliasTarget;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.RegistryException;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Keeps a local folder registry ({@code <cache>/models}) in step with OCI repositories, for
 * {@code berth serve --models oci://...}: the versions each source selects are pulled by digest
 * through a content-addressed blob cache ({@code <cache>/blobs}), alias tags become the folder's
 * aliases, versions no longer selected leave it. The server serves the folder as any other, so
 * its hot reload loads what the mirror brings. A sync that cannot reach a registry changes
 * nothing in that source's models.
 */
public final class OciMirror implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(OciMirror.class.getName());

    private final List<MirrorSource> sources;
    private final Function<OciReference, OciClient> clients;
    private final LocalRegistry models;
    private final BlobCache blobs;
    private final Duration pollInterval;
    private final ScheduledExecutorService poller;
    /** Last tag map seen per source: a poll with the same map does nothing more. */
    private final Map<MirrorSource, Map<String, String>> seen = new HashMap<>();
    /** Model name per source, as its manifests say, once known. */
    private final Map<MirrorSource, String> names = new HashMap<>();
    /** Version number to manifest digest per source, from the last sync that reached it. */
    private final Map<MirrorSource, Map<Integer, String>> digests = new HashMap<>();
    /** Version manifest sizes, for the subject descriptor of reports. */
    private final Map<String, Long> manifestSizes = new HashMap<>();
    /** Reports this process pushed, per version manifest digest, re-checked at every poll. */
    private final Map<String, List<OciReports.Pushed>> pushedBy = new HashMap<>();
    /** Report files known to be in the registry already. */
    private final Set<Path> pushedReports = new HashSet<>();
    /** Versions whose remote report list was read once (reports pushed before a restart are not pushed again). */
    private final Set<String> reportsListed = new HashSet<>();
    /** This server in report annotations: the host name and a hash of the cache folder (stable across restarts). */
    private final String reportSource;

    private OciMirror(List<MirrorSource> sources, Path cache, Function<OciReference, OciClient> clients, Duration pollInterval) {
        this.sources = List.copyOf(sources);
        // one client per registry for the mirror's life: its tokens are reused across polls and
        // credential helpers are not run again at every poll
        Map<OciReference, OciClient> made = new ConcurrentHashMap<>();
        this.clients = ref -> made.computeIfAbsent(ref, clients);
        this.models = LocalRegistry.open(cache.resolve("models"));
        this.blobs = new BlobCache(cache.resolve("blobs"));
        this.pollInterval = pollInterval;
        this.reportSource = hostName() + "/" + Integer.toHexString(cache.toAbsolutePath().normalize().toString().hashCode());
        this.poller = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("berth-oci-poll").factory());
    }

    /**
     * A mirror of {@code sources} into {@code cache}.
     *
     * @param clients      the client for a source's registry (credentials and --insecure-registry decided there)
     * @param pollInterval how often tags are read again; zero turns polling off
     */
    public static OciMirror create(List<MirrorSource> sources, Path cache, Function<OciReference, OciClient> clients, Duration pollInterval) {
        Objects.requireNonNull(cache, "cache");
        if (sources.isEmpty()) {
            throw new IllegalArgumentException("no oci:// sources");
        }
        return new OciMirror(sources, cache, clients, pollInterval);
    }

    /** The folder registry the server serves. */
    public Path modelsRoot() {
        return models.root();
    }

    /**
     * What one sync did for one source.
     *
     * @param source  the source
     * @param model   its model name (empty when never reached)
     * @param pulled  versions pulled now
     * @param present versions now in the cache for it
     * @param error   why the registry could not be read, or null
     */
    public record SourceState(MirrorSource source, String model, List<Integer> pulled, List<Integer> present, String error) {
        /** Whether the registry answered. */
        public boolean reached() {
            return error == null;
        }
    }

    /** Reads every source's tags and brings the cache in step; one source's failure leaves the others' work. */
    public synchronized List<SourceState> sync() {
        List<SourceState> states = new ArrayList<>();
        for (MirrorSource source : sources) {
            try {
                states.add(sync(source));
            } catch (RuntimeException e) {
                String model = names.getOrDefault(source, "");
                List<Integer> present = model.isEmpty() || !models.exists(model) ? List.of() : models.versions(model);
                states.add(new SourceState(source, model, List.of(), present, e.getMessage()));
                LOG.log(System.Logger.Level.WARNING, "oci mirror: " + source + ": " + e.getMessage() + "; serving what is cached");
            }
        }
        return states;
    }

    private SourceState sync(MirrorSource source) {
        OciClient client = clients.apply(source.repository());
        RemoteRepository repo = RemoteRepository.of(client, source.repository());
        Map<String, String> tags = repo.tagDigests();
        if (tags.equals(seen.get(source))) {
            String model = names.get(source);
            pushReports(source, client);
            return new SourceState(source, model, List.of(), models.exists(model) ? models.versions(model) : List.of(), null);
        }
        Map<Integer, String> versionDigests = new LinkedHashMap<>();
        tags.forEach((tag, digest) -> {
            if (RemoteRepository.isVersionTag(tag)) {
                versionDigests.put(Integer.parseInt(tag), digest);
            }
        });
        Map<String, Integer> aliases = new LinkedHashMap<>();
        tags.forEach((tag, digest) -> {
            if (RemoteRepository.isAliasTag(tag)) {
                versionDigests.entrySet().stream().filter(e -> e.getValue().equals(digest)).map(Map.Entry::getKey)
                        .findFirst().ifPresent(v -> aliases.put(tag, v));
            }
        });
        Set<Integer> selected = new LinkedHashSet<>();
        List<Integer> newestFirst = versionDigests.keySet().stream().sorted(Comparator.reverseOrder()).toList();
        selected.addAll(source.latest().isPresent() ? newestFirst.subList(0, Math.min(source.latest().getAsInt(), newestFirst.size())) : newestFirst);
        selected.addAll(aliases.values());

        List<Integer> pulled = new ArrayList<>();
        String model = names.get(source);
        for (int version : selected.stream().sorted().toList()) {
            OciReference byDigest = source.repository().withDigest(versionDigests.get(version));
            if (model != null && models.exists(model) && models.versions(model).contains(version)) {
                continue; // a version's content never changes; importVersion refuses one that did
            }
            OciPuller.Result r = OciPuller.pull(client, byDigest, models, blobs, TransferListener.NONE);
            if (model == null) {
                model = r.name();
                claim(source, model);
            }
            if (r.imported()) {
                pulled.add(version);
                LOG.log(System.Logger.Level.INFO, "oci mirror: pulled " + r.name() + ":" + version + " " + r.digest() + " from " + source);
            }
        }
        if (model != null) {
            applyAliases(model, aliases);
            retire(model, selected);
        }
        seen.put(source, tags);
        digests.put(source, versionDigests);
        pushReports(source, client);
        return new SourceState(source, model == null ? "" : model, pulled, model == null ? List.of() : models.versions(model), null);
    }

    /** Two sources must not feed one model: their version numbers would collide. */
    private void claim(MirrorSource source, String model) {
        names.forEach((other, name) -> {
            if (!other.equals(source) && name.equals(model)) {
                throw new RegistryException(source + " and " + other + " both hold model '" + model + "'");
            }
        });
        names.put(source, model);
    }

    private void applyAliases(String model, Map<String, Integer> aliases) {
        Map<String, AliasTarget> current = models.aliases(model);
        aliases.forEach((alias, version) -> {
            AliasTarget target = AliasTarget.single(version);
            if (!target.equals(current.get(alias))) {
                models.setAlias(model, alias, target);
            }
        });
        for (String alias : current.keySet()) {
            if (!aliases.containsKey(alias)) {
                models.deleteAlias(model, alias);
            }
        }
    }

    private void retire(String model, Set<Integer> selected) {
        for (int version : models.versions(model)) {
            if (!selected.contains(version)) {
                models.deleteVersion(model, version, true);
                LOG.log(System.Logger.Level.INFO, "oci mirror: " + model + ":" + version + " is no longer selected; removed from the cache");
            }
        }
    }

    /**
     * Pushes the monitoring reports the server wrote into the cached versions that are not in the
     * registry yet, as referrers of their version ({@link OciReports}). A failure is logged and
     * retried at the next poll.
     */
    private void pushReports(MirrorSource source, OciClient client) {
        String model = names.get(source);
        Map<Integer, String> versionDigests = digests.get(source);
        if (model == null || versionDigests == null || !models.exists(model)) {
            return;
        }
        String repo = source.repository().repository();
        for (int version : models.versions(model)) {
            String digest = versionDigests.get(version);
            if (digest == null) {
                continue;
            }
            List<Path> files = models.monitoringReports(model, version).stream()
                    .filter(p -> p.getFileName().toString().endsWith(".json")).filter(p -> !pushedReports.contains(p)).toList();
            try {
                int repaired = OciReports.ensureListed(client, repo, digest, pushedBy.getOrDefault(digest, List.of()));
                if (repaired > 0) {
                    LOG.log(System.Logger.Level.INFO, "oci mirror: " + repaired + " report(s) of " + model + ":" + version
                            + " another writer had dropped from the referrers tag were added back");
                }
                if (files.isEmpty()) {
                    continue;
                }
                if (reportsListed.add(digest)) {
                    for (OciReports.Report r : OciReports.list(client, repo, digest)) {
                        if (r.source().equals(reportSource)) {
                            pushedReports.add(models.versionDir(model, version).resolve(LocalRegistry.MONITORING_DIR).resolve(r.file()));
                        }
                    }
                }
                long size = manifestSizes.computeIfAbsent(digest, d -> (long) client.manifest(repo, d)
                        .orElseThrow(() -> new OciNotFoundException(source + " lost " + d)).bytes().length);
                for (Path file : files) {
                    if (pushedReports.contains(file)) {
                        continue;
                    }
                    byte[] report = Files.readAllBytes(file);
                    OciReports.Pushed pushed = OciReports.push(client, repo, digest, size, file.getFileName().toString(), report,
                            reportSource, Instant.now());
                    pushedBy.computeIfAbsent(digest, d -> new ArrayList<>()).add(pushed);
                    pushedReports.add(file);
                    LOG.log(System.Logger.Level.INFO, "oci mirror: report " + file.getFileName() + " of " + model + ":" + version + " pushed to " + source);
                }
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "oci mirror: reports of " + model + ":" + version + " not pushed yet: " + e.getMessage());
            }
        }
    }

    /** Pushes the reports written since the last poll (at shutdown, after the last reports were written). */
    public synchronized void pushReports() {
        for (MirrorSource source : sources) {
            try {
                pushReports(source, clients.apply(source.repository()));
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "oci mirror: " + source + ": reports not pushed: " + e.getMessage());
            }
        }
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown-host";
        }
    }

    /** Polls every {@code pollInterval} from now on (nothing when it is zero). */
    public void start() {
        if (pollInterval.isZero() || pollInterval.isNegative()) {
            return;
        }
        long ms = Math.max(1, pollInterval.toMillis());
        poller.scheduleWithFixedDelay(() -> {
            try {
                sync();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "oci mirror poll failed: " + e.getMessage());
            }
        }, ms, ms, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        poller.shutdownNow();
    }
}
