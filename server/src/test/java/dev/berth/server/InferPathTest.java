package dev.berth.server;

import io.helidon.common.uri.UriPath;
import io.helidon.http.PathMatcher;
import io.helidon.http.PathMatchers;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link InferPath} against Helidon's own matcher for the same template: the same paths accepted, the
 * same path parameters, for hand-picked edge cases and every path built from a few awkward pieces.
 */
class InferPathTest {
    private static final List<String> PIECES = List.of("churn", "versions", "infer", "1", "", "%2F", "a%20b", "models",
            "v2", "%C3%A9");

    @Test
    void acceptsWhatTheTemplatesAccept() {
        List<String> paths = new ArrayList<>(List.of(
                "/v2/models/churn/infer", "/v2/models/churn/versions/3/infer", "/v2/models/churn/infer/",
                "/v2/models//infer", "/v2/models/infer", "/v2/models/a/b/infer", "/v2/models/a/versions//infer",
                "/v2/models/a/versions/1/2/infer", "/v2/models/a/versions/infer", "/v2/models/versions/infer",
                "/v2/models/a%2Fb/infer", "/v2/models/a%2Fversions%2F1/infer", "//v2/models/a/infer",
                "/v2/models/a/inferx", "/v2/models/a/xinfer", "/v2/models/a/versions/1/infer/", "/v2/models/a/infer;x=1",
                "/v2/models/a;m=1/infer", "/v2/models/%2F/infer", "/v2/models/a/versions/%2F/infer", "/v2/modelsx/a/infer"));
        for (String a : PIECES) {
            paths.add("/v2/models/" + a + "/infer");
            for (String b : PIECES) {
                paths.add("/v2/models/" + a + "/" + b);
                paths.add("/v2/models/" + a + "/" + b + "/infer");
                for (String c : PIECES) {
                    paths.add("/v2/models/" + a + "/" + b + "/" + c + "/infer");
                    paths.add("/v2/models/" + a + "/versions/" + b + "/" + c);
                }
            }
        }
        int accepted = 0;
        for (String template : List.of(InferPath.MODEL, InferPath.VERSION)) {
            PathMatcher fast = InferPath.of(template);
            PathMatcher helidon = PathMatchers.create(template);
            for (String raw : paths) {
                UriPath path = UriPath.create(raw);
                PathMatchers.MatchResult expected = helidon.match(path);
                PathMatchers.MatchResult actual = fast.match(path);
                assertEquals(expected.accepted(), actual.accepted(), template + " on " + raw);
                if (expected.accepted()) {
                    accepted++;
                    assertEquals(expected.path().pathParameters().first("model"), actual.path().pathParameters().first("model"), raw);
                    assertEquals(expected.path().pathParameters().first("version"), actual.path().pathParameters().first("version"), raw);
                    assertEquals(expected.path().pathParameters().names(), actual.path().pathParameters().names(), raw);
                    assertEquals(expected.path().path(), actual.path().path(), raw);
                    assertEquals(expected.path().rawPath(), actual.path().rawPath(), raw);
                    assertEquals(expected.path().absolute().path(), actual.path().absolute().path(), raw);
                }
            }
        }
        // the comparison must have covered accepted paths of both routes, not only refusals
        assertTrue(accepted > 100, "accepted paths compared: " + accepted);
    }
}
