package dev.berth.oci;

import dev.berth.registry.InvalidArgumentException;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A place in an OCI registry as users write it: {@code REGISTRY/REPOSITORY[:TAG][@DIGEST]}, for
 * example {@code registry.example.com/ml/churn:3} or {@code 127.0.0.1:5000/churn@sha256:...}; an
 * {@code oci://} prefix is accepted. The registry part is required (berth has no default registry).
 *
 * @param registry   host and optional port
 * @param repository the repository path (lower case, distribution-spec grammar)
 * @param tag        a tag, or null
 * @param digest     a manifest digest {@code sha256:<hex>}, or null
 */
public record OciReference(String registry, String repository, String tag, String digest) {
    private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");
    private static final Pattern HOST = Pattern.compile("(\\[[0-9A-Fa-f:.]+]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?");

    public OciReference {
        if (tag != null && !TAG.matcher(tag).matches()) {
            throw new InvalidArgumentException("invalid tag '" + tag + "'");
        }
        if (digest != null && !DIGEST.matcher(digest).matches()) {
            throw new InvalidArgumentException("invalid digest '" + digest + "' (expected sha256:<64 hex digits>)");
        }
    }

    /** Whether {@code text} is meant as a registry reference rather than a local {@code NAME[:VERSION|@ALIAS]}: it has a '/'. */
    public static boolean looksRemote(String text) {
        return text != null && (text.startsWith("oci://") || text.indexOf('/') > 0);
    }

    /** Parses a reference; throws {@link InvalidArgumentException} saying what is wrong. */
    public static OciReference parse(String text) {
        if (text == null || text.isBlank()) {
            throw new InvalidArgumentException("empty registry reference; expected REGISTRY/REPOSITORY[:TAG]");
        }
        String rest = text.startsWith("oci://") ? text.substring("oci://".length()) : text;
        int slash = rest.indexOf('/');
        if (slash <= 0) {
            throw new InvalidArgumentException("'" + text + "' has no registry part; expected REGISTRY/REPOSITORY[:TAG], e.g. registry.example.com/ml/churn:3");
        }
        String registry = rest.substring(0, slash);
        if (!HOST.matcher(registry).matches() || !(registry.contains(".") || registry.contains(":") || registry.equals("localhost"))) {
            throw new InvalidArgumentException("'" + registry + "' in '" + text + "' is not a registry host (give host[:port], e.g. registry.example.com or 127.0.0.1:5000)");
        }
        String path = rest.substring(slash + 1);
        String digest = null;
        int at = path.indexOf('@');
        if (at >= 0) {
            digest = path.substring(at + 1);
            path = path.substring(0, at);
        }
        String tag = null;
        int colon = path.lastIndexOf(':');
        if (colon >= 0) {
            tag = path.substring(colon + 1);
            path = path.substring(0, colon);
        }
        for (String component : path.split("/", -1)) {
            if (!COMPONENT.matcher(component).matches()) {
                throw new InvalidArgumentException("invalid repository '" + path + "' in '" + text
                        + "': lower-case letters and digits, separated by '.', '_' or '-', components by '/'");
            }
        }
        return new OciReference(registry, path, tag, digest);
    }

    /** The same repository with another tag and no digest. */
    public OciReference withTag(String newTag) {
        return new OciReference(registry, repository, newTag, null);
    }

    /** The same repository at a digest. */
    public OciReference withDigest(String newDigest) {
        return new OciReference(registry, repository, null, newDigest);
    }

    /** The same repository without tag or digest. */
    public OciReference repositoryOnly() {
        return new OciReference(registry, repository, null, null);
    }

    /** The digest where given, else the tag; empty when neither is. */
    public Optional<String> reference() {
        return Optional.ofNullable(digest != null ? digest : tag);
    }

    /** Whether the registry host is a loopback address, where plain HTTP may be allowed. */
    public boolean isLoopback() {
        String host = registry.startsWith("[") ? registry.substring(1, registry.indexOf(']')) : registry.replaceFirst(":[0-9]+$", "");
        return host.equals("localhost") || host.startsWith("127.") || host.equals("::1");
    }

    @Override
    public String toString() {
        return registry + "/" + repository + (tag != null ? ":" + tag : "") + (digest != null ? "@" + digest : "");
    }
}
