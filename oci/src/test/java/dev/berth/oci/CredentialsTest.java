package dev.berth.oci;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Docker config file as Docker's client reads it, with real credential-helper processes. */
class CredentialsTest {
    @TempDir
    Path tmp;

    private Map<String, String> env() {
        return Map.of("DOCKER_CONFIG", tmp.toString(), "PATH", tmp.resolve("bin") + ":/usr/bin:/bin");
    }

    private void config(String json) throws IOException {
        Files.writeString(tmp.resolve("config.json"), json);
    }

    /** A credential helper as a shell script: answers its input's registry from a case table, as the real ones do. */
    private void helper(String name, String body) throws IOException {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Path script = bin.resolve("docker-credential-" + name);
        Files.writeString(script, "#!/bin/sh\n[ \"$1\" = get ] || exit 3\nread -r server\n" + body);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static String basic(String userPass) {
        return Base64.getEncoder().encodeToString(userPass.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void noConfigFileMeansAnonymous() {
        assertEquals(Optional.empty(), Credentials.lookup("registry.example.com", env()));
    }

    @Test
    void authsEntriesByTheirKeyWithOrWithoutSchemeAndForDockerHub() throws IOException {
        config("""
                {"auths": {
                  "registry.example.com": {"auth": "%s"},
                  "https://other.example.com:5000/v2/": {"username": "u2", "password": "p2"},
                  "tokens.example.com": {"identitytoken": "t0k"},
                  "https://index.docker.io/v1/": {"auth": "%s"}}}""".formatted(basic("ci:pa:ss"), basic("hub:pw")));
        assertEquals(new Credentials("ci", "pa:ss"), Credentials.lookup("registry.example.com", env()).orElseThrow(),
                "the password is everything after the first colon");
        assertEquals(new Credentials("u2", "p2"), Credentials.lookup("other.example.com:5000", env()).orElseThrow());
        assertEquals(new Credentials("<token>", "t0k"), Credentials.lookup("tokens.example.com", env()).orElseThrow());
        assertEquals(new Credentials("hub", "pw"), Credentials.lookup("registry-1.docker.io", env()).orElseThrow());
        assertEquals(Optional.empty(), Credentials.lookup("unknown.example.com", env()));
    }

    @Test
    void theRegistrysHelperThenTheStoreThenTheFile() throws IOException {
        helper("team", """
                case "$server" in
                  registry.example.com) echo '{"ServerURL":"registry.example.com","Username":"from-team","Secret":"s1"}' ;;
                  *) echo 'credentials not found in native keychain'; exit 1 ;;
                esac
                """);
        helper("store", """
                case "$server" in
                  stored.example.com) echo '{"ServerURL":"stored.example.com","Username":"from-store","Secret":"s2"}' ;;
                  *) echo 'credentials not found in native keychain'; exit 1 ;;
                esac
                """);
        config("""
                {"credHelpers": {"registry.example.com": "team"}, "credsStore": "store",
                 "auths": {"registry.example.com": {"auth": "%s"}, "file.example.com": {"auth": "%s"}}}"""
                .formatted(basic("from-file:x"), basic("from-file:y")));
        assertEquals(new Credentials("from-team", "s1"), Credentials.lookup("registry.example.com", env()).orElseThrow());
        assertEquals(new Credentials("from-store", "s2"), Credentials.lookup("stored.example.com", env()).orElseThrow());
        assertEquals(new Credentials("from-file", "y"), Credentials.lookup("file.example.com", env()).orElseThrow(),
                "a store that has nothing for the registry leaves the file's entry");
        assertEquals(Optional.empty(), Credentials.lookup("nowhere.example.com", env()));
    }

    @Test
    void aMissingOrFailingHelperAndABrokenFileSaySo() throws IOException {
        config("{\"credsStore\": \"absent\"}");
        OciException missing = assertThrows(OciException.class, () -> Credentials.lookup("registry.example.com", env()));
        assertTrue(missing.getMessage().contains("docker-credential-absent"), missing.getMessage());

        helper("broken", "echo 'keychain locked' ; exit 2\n");
        config("{\"credsStore\": \"broken\"}");
        OciException failed = assertThrows(OciException.class, () -> Credentials.lookup("registry.example.com", env()));
        assertTrue(failed.getMessage().contains("keychain locked") && failed.getMessage().contains("exit 2"), failed.getMessage());

        config("{\"auths\": ");
        OciException notJson = assertThrows(OciException.class, () -> Credentials.lookup("registry.example.com", env()));
        assertTrue(notJson.getMessage().contains("config.json"), notJson.getMessage());

        config("{\"auths\": {\"registry.example.com\": {\"auth\": \"%s\"}}}".formatted(basic("no-colon")));
        OciException notBasic = assertThrows(OciException.class, () -> Credentials.lookup("registry.example.com", env()));
        assertTrue(notBasic.getMessage().contains("user:password"), notBasic.getMessage());
    }
}
