package dev.berth.oci;

import dev.berth.registry.InvalidArgumentException;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * One {@code oci://REGISTRY/REPOSITORY[?latest=N]} entry of {@code serve --models}: a model's
 * repository and which of its versions the server mirrors (every version tag, or the newest N plus
 * every version an alias tag points at).
 *
 * @param repository the repository (no tag or digest)
 * @param latest     how many of the newest version tags; empty for all
 */
public record MirrorSource(OciReference repository, OptionalInt latest) {
    /** Whether a {@code --models} value names OCI repositories rather than a folder. */
    public static boolean isOci(String models) {
        return models != null && models.trim().startsWith("oci:/");
    }

    /**
     * Parses a comma-separated list of {@code oci://} URIs. A single '/' after {@code oci:} is taken
     * as two: the value may have passed through a file-system path, which folds "//".
     */
    public static List<MirrorSource> parseList(String models) {
        List<MirrorSource> sources = new ArrayList<>();
        for (String part : models.split(",")) {
            String text = part.trim().replaceFirst("^oci:/+", "oci://");
            if (!text.startsWith("oci://")) {
                throw new InvalidArgumentException("'" + part.trim() + "': give every --models entry as oci://REGISTRY/REPOSITORY, or one folder");
            }
            OptionalInt latest = OptionalInt.empty();
            int q = text.indexOf('?');
            if (q >= 0) {
                String query = text.substring(q + 1);
                text = text.substring(0, q);
                if (!query.matches("latest=[1-9][0-9]{0,5}")) {
                    throw new InvalidArgumentException("'" + part.trim() + "': the only query is ?latest=N (N >= 1)");
                }
                latest = OptionalInt.of(Integer.parseInt(query.substring("latest=".length())));
            }
            OciReference ref = OciReference.parse(text);
            if (ref.tag() != null || ref.digest() != null) {
                throw new InvalidArgumentException("'" + part.trim() + "': name the repository without a tag; the server follows its tags");
            }
            sources.add(new MirrorSource(ref, latest));
        }
        return List.copyOf(sources);
    }

    @Override
    public String toString() {
        return "oci://" + repository + (latest.isPresent() ? "?latest=" + latest.getAsInt() : "");
    }
}
