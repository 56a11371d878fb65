package dev.berth.oci;

import dev.berth.registry.InvalidArgumentException;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.ModelRef;
import dev.berth.registry.RegistryJson;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One model's OCI repository read and changed through its tags: version tags (numbers) and alias
 * tags (names), manifests and configs, never layers.
 */
public final class RemoteRepository {
    private final OciClient client;
    private final OciReference repository;

    private RemoteRepository(OciClient client, OciReference repository) {
        this.client = client;
        this.repository = repository.repositoryOnly();
    }

    /** The repository of {@code ref}, read through {@code client}. */
    public static RemoteRepository of(OciClient client, OciReference ref) {
        return new RemoteRepository(client, ref);
    }

    /** The repository (without tag). */
    public OciReference reference() {
        return repository;
    }

    /**
     * A version as the registry holds it.
     *
     * @param manifest  the image manifest, parsed
     * @param config    the config blob ({@code manifest.json}) bytes, verified against its digest
     * @param version   the config parsed
     */
    public record RemoteVersion(OciLayout.VersionManifest manifest, byte[] config, ModelManifest version) {
    }

    /** Tag to manifest digest, for every version and alias tag (other tags left out). */
    public Map<String, String> tagDigests() {
        Map<String, String> digests = new LinkedHashMap<>();
        for (String tag : client.tags(repository.repository())) {
            if (isVersionTag(tag) || isAliasTag(tag)) {
                client.manifestDigest(repository.repository(), tag).ifPresent(d -> digests.put(tag, d));
            }
        }
        return digests;
    }

    /** Whether a tag names a version (a number). */
    public static boolean isVersionTag(String tag) {
        return tag.matches("[1-9][0-9]{0,8}");
    }

    /** Whether a tag can be an alias (a valid alias name; the referrers fallback tags are not). */
    public static boolean isAliasTag(String tag) {
        return ModelRef.isValidName(tag) && !tag.chars().allMatch(Character::isDigit) && !tag.matches("sha256-[0-9a-f]{64}.*");
    }

    /**
     * The reference a {@code REF} without tag or digest means: the {@code production} tag where
     * there is one, else the highest version tag, as a bare model name means locally.
     */
    public String defaultReference() {
        List<String> tags = client.tags(repository.repository());
        if (tags.isEmpty()) {
            throw new OciNotFoundException("no repository " + repository + " (or it has no tags)");
        }
        if (tags.contains("production")) {
            return "production";
        }
        return tags.stream().filter(RemoteRepository::isVersionTag).max(Comparator.comparingInt(Integer::parseInt))
                .orElseThrow(() -> new OciNotFoundException(repository + " has no version tags (tags: " + tags + ")"));
    }

    /** The version at a tag or digest: manifest, config verified, layers checked against the config's file list. */
    public RemoteVersion version(String reference) {
        String where = repository + (reference.startsWith("sha256:") ? "@" : ":") + reference;
        OciClient.Manifest m = client.manifest(repository.repository(), reference)
                .orElseThrow(() -> new OciNotFoundException("no " + where));
        OciLayout.VersionManifest vm = OciLayout.parse(m, where);
        byte[] config = client.blob(repository.repository(), vm.config(), OciLayout.MAX_CONFIG_BYTES);
        ModelManifest version;
        try {
            version = RegistryJson.mapper().readValue(config, ModelManifest.class);
        } catch (IOException e) {
            throw new InvalidArgumentException(where + ": its config is not a berth manifest.json: " + e.getMessage());
        }
        if (vm.version() != version.version() || !vm.name().equals(version.name())) {
            throw new InvalidArgumentException(where + ": annotations say " + vm.name() + ":" + vm.version()
                    + ", its manifest.json says " + version.name() + ":" + version.version());
        }
        OciLayout.requireConsistent(vm, version, where);
        return new RemoteVersion(vm, config, version);
    }

    /**
     * A listing: each version tag with its manifest's annotations, and each alias with the version
     * it points at (0 when it points at no version tag's manifest).
     *
     * @param versions version number to its manifest (annotations, digest)
     * @param aliases  alias to version number
     */
    public record Listing(Map<Integer, OciLayout.VersionManifest> versions, Map<String, Integer> aliases) {
    }

    /** Reads every version tag's manifest (not the layers) and resolves the alias tags. */
    public Listing listing() {
        Map<String, String> digests = tagDigests();
        Map<Integer, OciLayout.VersionManifest> versions = new TreeMap<>();
        Map<String, Integer> byDigest = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : digests.entrySet()) {
            if (isVersionTag(e.getKey())) {
                Optional<OciClient.Manifest> m = client.manifest(repository.repository(), e.getValue());
                if (m.isPresent() && OciLayout.isVersion(m.get().json())) {
                    OciLayout.VersionManifest vm = OciLayout.parse(m.get(), repository + ":" + e.getKey());
                    versions.put(Integer.parseInt(e.getKey()), vm);
                    byDigest.put(e.getValue(), Integer.parseInt(e.getKey()));
                }
            }
        }
        Map<String, Integer> aliases = new TreeMap<>();
        digests.forEach((tag, digest) -> {
            if (isAliasTag(tag)) {
                Integer v = byDigest.get(digest);
                if (v != null) {
                    aliases.put(tag, v);
                }
            }
        });
        return new Listing(versions, aliases);
    }

    /** Version numbers with a tag, ascending. */
    public List<Integer> versionTags() {
        List<Integer> versions = new ArrayList<>();
        client.tags(repository.repository()).stream().filter(RemoteRepository::isVersionTag).map(Integer::parseInt).forEach(versions::add);
        versions.sort(null);
        return versions;
    }

    /**
     * Points an alias tag at a version's manifest (the same bytes under another tag); returns the digest.
     *
     * @throws InvalidArgumentException for an alias that is a number or not a valid name
     * @throws OciNotFoundException     when the version has no tag
     */
    public String moveAlias(String alias, int version) {
        ModelRef.requireValidAlias(alias);
        OciClient.Manifest m = client.manifest(repository.repository(), Integer.toString(version))
                .orElseThrow(() -> new OciNotFoundException(repository + " has no version " + version + " (versions: " + versionTags() + ")"));
        OciLayout.parse(m, repository + ":" + version);
        return client.putManifest(repository.repository(), alias, OciClient.OCI_MANIFEST, m.bytes());
    }
}
