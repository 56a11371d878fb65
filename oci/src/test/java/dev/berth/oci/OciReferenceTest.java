package dev.berth.oci;

import dev.berth.registry.InvalidArgumentException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OciReferenceTest {
    private static final String DIGEST = "sha256:" + "ab".repeat(32);

    @Test
    void parsesRegistryRepositoryTagAndDigest() {
        OciReference r = OciReference.parse("registry.example.com/ml/churn:3");
        assertEquals("registry.example.com", r.registry());
        assertEquals("ml/churn", r.repository());
        assertEquals("3", r.tag());
        assertNull(r.digest());
        OciReference d = OciReference.parse("oci://127.0.0.1:5000/churn@" + DIGEST);
        assertEquals("127.0.0.1:5000", d.registry());
        assertEquals(DIGEST, d.reference().orElseThrow());
        assertTrue(d.isLoopback());
        assertFalse(r.isLoopback());
        assertEquals("localhost:5000/a/b:production", OciReference.parse("localhost:5000/a/b:production").toString());
    }

    @Test
    void refusesWhatIsNotAReference() {
        for (String bad : List.of("churn:3", "ml/churn:3", "registry.example.com/ML/churn", "registry.example.com/ml//churn",
                "registry.example.com/ml/churn:-x", "registry.example.com/ml/churn@sha256:12", "")) {
            assertThrows(InvalidArgumentException.class, () -> OciReference.parse(bad), bad);
        }
        assertTrue(OciReference.looksRemote("reg.example.com/churn"));
        assertFalse(OciReference.looksRemote("churn@production"));
    }

    @Test
    void mirrorSourcesTakeAPathFoldedSchemeAndALatestQuery() {
        List<MirrorSource> s = MirrorSource.parseList("oci:/127.0.0.1:5000/ml/churn?latest=2, oci://reg.example.com/digits");
        assertEquals(2, s.size());
        assertEquals(OptionalInt.of(2), s.get(0).latest());
        assertEquals("oci://127.0.0.1:5000/ml/churn?latest=2", s.get(0).toString());
        assertEquals("digits", s.get(1).repository().repository());
        assertThrows(InvalidArgumentException.class, () -> MirrorSource.parseList("oci://reg.example.com/ml/churn:2"));
        assertThrows(InvalidArgumentException.class, () -> MirrorSource.parseList("oci://reg.example.com/ml/churn?latest=0"));
        assertThrows(InvalidArgumentException.class, () -> MirrorSource.parseList("oci://reg.example.com/a,./models"));
    }

    @Test
    void tagKinds() {
        assertTrue(RemoteRepository.isVersionTag("12"));
        assertFalse(RemoteRepository.isVersionTag("012"));
        assertTrue(RemoteRepository.isAliasTag("production"));
        assertFalse(RemoteRepository.isAliasTag("3"));
        assertFalse(RemoteRepository.isAliasTag("sha256-" + "ab".repeat(32)));
    }
}
