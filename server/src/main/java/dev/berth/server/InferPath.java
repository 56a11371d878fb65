package dev.berth.server;

import io.helidon.common.parameters.Parameters;
import io.helidon.common.uri.UriPath;
import io.helidon.http.PathMatcher;
import io.helidon.http.PathMatchers;
import io.helidon.http.RoutedPath;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The path matcher of the two inference routes, {@code /v2/models/{model}/infer} and
 * {@code /v2/models/{model}/versions/{version}/infer}: the common shape is recognised by comparing
 * the decoded path's fixed parts and cutting out the segments, without the regular expression that
 * Helidon's template matcher runs for every request (about 2 % of a small model's request CPU).
 * Anything else goes to Helidon's own matcher for the same template, so the routes accept exactly
 * the paths they accepted before; {@code InferPathTest} holds both to the same answers.
 */
final class InferPath implements PathMatcher {
    private static final String MODELS = "/v2/models/";
    private static final String INFER = "/infer";
    private static final String VERSIONS = "/versions/";

    private final boolean versioned;
    private final PathMatcher template;

    private InferPath(boolean versioned, String template) {
        this.versioned = versioned;
        this.template = PathMatchers.create(template);
    }

    /** The matcher of {@code template}, one of {@link #MODEL} and {@link #VERSION}. */
    static PathMatcher of(String template) {
        return switch (template) {
            case MODEL -> new InferPath(false, template);
            case VERSION -> new InferPath(true, template);
            default -> throw new IllegalArgumentException("not an inference route: " + template);
        };
    }

    /** The unversioned inference route's template. */
    static final String MODEL = "/v2/models/{model}/infer";
    /** The versioned inference route's template. */
    static final String VERSION = "/v2/models/{model}/versions/{version}/infer";

    @Override
    public PathMatchers.MatchResult match(UriPath uriPath) {
        String path = uriPath.path();
        int end = path.length() - INFER.length();
        if (path.startsWith(MODELS) && end > MODELS.length() && path.startsWith(INFER, end)) {
            int slash = path.indexOf('/', MODELS.length());
            if (!versioned && slash == end) {
                return accepted(uriPath, Map.of("model", List.of(path.substring(MODELS.length(), end))));
            }
            if (versioned && slash > MODELS.length() && slash < end && path.startsWith(VERSIONS, slash)) {
                int version = slash + VERSIONS.length();
                if (version < end && path.indexOf('/', version) == end) {
                    return accepted(uriPath, Map.of("model", List.of(path.substring(MODELS.length(), slash)),
                            "version", List.of(path.substring(version, end))));
                }
            }
        }
        return template.match(uriPath);
    }

    @Override
    public PathMatchers.PrefixMatchResult prefixMatch(UriPath uriPath) {
        return template.prefixMatch(uriPath);
    }

    @Override
    public Optional<String> matchingElement() {
        return template.matchingElement();
    }

    private static PathMatchers.MatchResult accepted(UriPath path, Map<String, List<String>> params) {
        return new PathMatchers.MatchResult(true, new Routed(path, Parameters.create("http/path", params)));
    }

    /** A matched path with its template's parameters, as Helidon's own matcher returns it. */
    private record Routed(UriPath matched, Parameters pathParameters) implements RoutedPath {
        @Override
        public String rawPath() {
            return matched.rawPath();
        }

        @Override
        public String rawPathNoParams() {
            return matched.rawPathNoParams();
        }

        @Override
        public String path() {
            return matched.path();
        }

        @Override
        public Parameters matrixParameters() {
            return matched.matrixParameters();
        }

        @Override
        public RoutedPath absolute() {
            return new Routed(matched.absolute(), pathParameters);
        }

        @Override
        public void validate() {
            matched.validate();
        }

        @Override
        public String toString() {
            return matched.toString();
        }
    }
}
