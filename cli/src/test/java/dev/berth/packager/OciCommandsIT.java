package dev.berth.packager;

import dev.berth.cli.BerthMain;
import dev.berth.registry.LocalRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code berth push}, {@code pull}, and {@code list}/{@code show}/{@code alias} on a remote repository, against docker-registry. */
class OciCommandsIT {
    @TempDir
    Path tmp;

    static Cli.Run berth(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BerthMain.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Cli.Run(code, out.toString(), err.toString());
    }

    @Test
    void pushListAliasShowPullVerify() throws IOException {
        LocalRegistry local = ChurnRegistry.create(tmp.resolve("laptop"));
        String models = local.root().toString();
        try (LocalOciRegistry registry = LocalOciRegistry.start()) {
            String repo = registry.address() + "/ml/churn";
            Cli.Run one = berth("push", "churn:1", repo, "--insecure-registry", "--models", models);
            assertEquals(0, one.exitCode(), one.describe());
            assertEquals(registry.manifestDigest("ml/churn", "1"), one.lastLine(), "the manifest digest on the last line");
            assertTrue(one.err().isEmpty(), "no progress when stderr is not a terminal: " + one.err());
            Cli.Run two = berth("push", "churn@staging", repo + ":2", "--insecure-registry", "--models", models);
            assertEquals(0, two.exitCode(), two.describe());
            assertTrue(two.out().contains("already there"), two.out());
            assertEquals(registry.manifestDigest("ml/churn", "2"), two.lastLine());

            Cli.Run alias = berth("alias", repo, "production", "2", "--insecure-registry");
            assertEquals(0, alias.exitCode(), alias.describe());
            assertEquals(registry.manifestDigest("ml/churn", "2"), registry.manifestDigest("ml/churn", "production"));
            Cli.Run split = berth("alias", repo, "canary", "1=90", "2=10", "--insecure-registry");
            assertEquals(2, split.exitCode(), split.describe());
            assertTrue(split.err().contains("one version"), split.err());

            Cli.Run list = berth("list", repo, "--insecure-registry");
            assertEquals(0, list.exitCode(), list.describe());
            assertTrue(list.out().lines().anyMatch(l -> l.startsWith("1 ") && l.contains("accuracy=0.7833")), list.out());
            assertTrue(list.out().lines().anyMatch(l -> l.startsWith("2 ") && l.contains("production")), list.out());

            Cli.Run show = berth("show", repo + ":production", "--insecure-registry");
            assertEquals(0, show.exitCode(), show.describe());
            assertTrue(show.out().startsWith("churn:2  " + repo + "@" + registry.manifestDigest("ml/churn", "2")), show.out());
            assertTrue(show.out().contains("data/customer_data.csv"), show.out());
            Cli.Run showJson = berth("show", repo + ":1", "--json", "--insecure-registry");
            assertEquals(java.nio.file.Files.readString(local.versionDir("churn", 1).resolve("manifest.json")).stripTrailing(),
                    showJson.out().stripTrailing());

            Path elsewhere = tmp.resolve("server");
            Cli.Run pull = berth("pull", repo + ":production", "--insecure-registry", "--models", elsewhere.toString());
            assertEquals(0, pull.exitCode(), pull.describe());
            assertEquals("churn:2", pull.lastLine());
            Cli.Run verify = berth("verify", "--models", elsewhere.toString());
            assertEquals(0, verify.exitCode(), verify.describe());
            Cli.Run again = berth("pull", repo + ":2", "--insecure-registry", "--models", elsewhere.toString());
            assertEquals(0, again.exitCode(), again.describe());
            assertTrue(again.out().contains("already here"), again.out());
            Cli.Run localShow = berth("show", "churn@production", "--models", elsewhere.toString());
            assertTrue(localShow.out().startsWith("churn:2"), localShow.out());
        }
    }

    @Test
    void mistakesAreOneLineWithTheRightExitCode() throws IOException {
        LocalRegistry local = ChurnRegistry.create(tmp.resolve("laptop"));
        int port = LocalOciRegistry.freePort();
        Cli.Run down = berth("push", "churn:1", "127.0.0.1:" + port + "/ml/churn", "--insecure-registry", "--models", local.root().toString());
        assertEquals(1, down.exitCode(), down.describe());
        assertTrue(down.err().contains("cannot reach registry 127.0.0.1:" + port), down.err());
        assertEquals(1, down.err().lines().count(), down.err());
        Cli.Run noHost = berth("pull", "ml/churn:1", "--models", local.root().toString());
        assertEquals(2, noHost.exitCode(), noHost.describe());
        assertTrue(noHost.err().contains("not a registry host"), noHost.err());
        Cli.Run remoteInsecure = berth("pull", "registry.example.com/ml/churn:1", "--insecure-registry");
        assertEquals(2, remoteInsecure.exitCode(), remoteInsecure.describe());
        assertFalse(remoteInsecure.err().contains("Exception"), remoteInsecure.err());
    }
}
