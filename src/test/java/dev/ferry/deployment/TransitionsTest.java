package dev.ferry.deployment;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one table of legal moves, walked pair by pair, and the sealed states that must agree with it. */
class TransitionsTest {

  /** The legal moves, spelled out here apart from the table they check. */
  static final Set<String> LEGAL = Set.of(
      "queued→built", "queued→error",
      "built→loaded", "built→error",
      "loaded→deployed", "loaded→error",
      "deployed→sleeping", "deployed→stopped", "deployed→deleted", "deployed→crashed",
      "sleeping→deployed", "sleeping→stopped", "sleeping→deleted", "sleeping→crashed");

  static final Artifact ARTIFACT = new Artifact(Path.of("/nonexistent/a.jar"), List.of(), "00", Optional.empty());

  /** One state of each name. */
  static DeploymentState sample(StateName name) {
    return switch (name) {
      case QUEUED -> new DeploymentState.Queued(Path.of("/nonexistent/upload.tar.gz"));
      case BUILT -> new DeploymentState.Built(ARTIFACT);
      case LOADED -> new DeploymentState.Loaded(ARTIFACT, "runner-1", "fixture.Main", new JsonObject());
      case DEPLOYED -> new DeploymentState.Deployed(8080);
      case SLEEPING -> new DeploymentState.Sleeping(8080);
      case CRASHED -> new DeploymentState.Crashed(List.of("killed"));
      case FAILED -> new DeploymentState.Failed("build", "it broke");
      case STOPPED -> new DeploymentState.Stopped();
      case DELETED -> new DeploymentState.Deleted();
    };
  }

  static Deployment in(DeploymentState state) {
    Instant now = Deployment.now();
    return new Deployment("000000001aaaa", "svc", now, now, state, ARTIFACT, Map.of(state.name(), now), null);
  }

  @Test
  void every_pair_of_states_is_legal_exactly_when_the_table_says_so_and_an_illegal_one_throws_naming_both() {
    int legal = 0;
    for (StateName from : StateName.values()) {
      for (StateName to : StateName.values()) {
        String move = from.wire() + "→" + to.wire();
        Deployment d = in(sample(from));
        if (LEGAL.contains(move)) {
          assertTrue(Transitions.legal(from, to), move);
          Deployment next = d.to(sample(to));
          assertEquals(to, next.state().kind(), move);
          assertTrue(next.timeline().containsKey(to.wire()), move);
          legal++;
        } else {
          assertTrue(!Transitions.legal(from, to), move);
          IllegalStateException e = assertThrows(IllegalStateException.class, () -> d.to(sample(to)), move);
          assertTrue(e.getMessage().contains(from.wire() + " → " + to.wire()) && e.getMessage().contains(d.id()), e.getMessage());
        }
      }
    }
    assertEquals(LEGAL.size(), legal, "every legal move was walked");
  }

  @Test
  void a_deployment_begins_queued_or_built_and_nothing_else() {
    Vertx vertx = Vertx.vertx();
    try {
      Transitions transitions = new Transitions(vertx, s -> "http://" + s + ".localhost/");
      for (StateName name : StateName.values()) {
        Deployment d = in(sample(name));
        if (name == StateName.QUEUED || name == StateName.BUILT) {
          assertEquals(d, transitions.begin(d), name.wire());
        } else {
          assertThrows(IllegalStateException.class, () -> transitions.begin(d), name.wire());
        }
      }
      // one that has moved on does not begin again
      Deployment built = in(sample(StateName.QUEUED)).to(sample(StateName.BUILT));
      assertThrows(IllegalStateException.class, () -> transitions.begin(built));
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void only_the_states_on_the_way_may_fail_and_each_state_records_its_own_name() {
    for (StateName name : StateName.values()) {
      DeploymentState s = sample(name);
      assertEquals(name, s.kind());
      assertEquals(name.wire(), s.name());
      boolean canFail = Arrays.stream(s.getClass().getMethods()).anyMatch(m -> m.getName().equals("failed"));
      assertEquals(StateName.IN_PROGRESS.contains(name), canFail, name.wire());
    }
    assertEquals("error", StateName.FAILED.wire(), "the wire name stays");
    assertEquals(StateName.FAILED, StateName.of("error"));
  }

  @Test
  void every_move_a_state_offers_is_legal() throws Exception {
    List<String> offered = new ArrayList<>();
    for (StateName from : StateName.values()) {
      DeploymentState s = sample(from);
      for (Method m : s.getClass().getMethods()) {
        if (!DeploymentState.class.isAssignableFrom(m.getReturnType()) || m.getDeclaringClass() == Object.class) continue;
        Object[] args = Arrays.stream(m.getParameterTypes()).map(TransitionsTest::argument).toArray();
        DeploymentState to = (DeploymentState) m.invoke(s, args);
        offered.add(from.wire() + "→" + to.name());
        assertTrue(Transitions.legal(from, to.kind()), m + " offers " + from.wire() + "→" + to.name());
      }
    }
    assertEquals(LEGAL, Set.copyOf(offered), "the states offer every legal move and no other");
  }

  @Test
  void the_named_sets_partition_as_documented() {
    assertEquals(Set.of("queued", "built", "loaded"), wires(StateName.IN_PROGRESS));
    assertEquals(Set.of("deployed", "sleeping"), wires(StateName.LIVE));
    assertEquals(Set.of("deployed", "sleeping", "crashed", "error", "stopped", "deleted"), wires(StateName.FINAL_FOR_BUILD));
    assertEquals(Set.of("crashed", "error", "stopped", "deleted"), wires(StateName.FINAL_FOR_RUN));
    // final for a run: never left
    for (StateName s : StateName.FINAL_FOR_RUN) {
      for (StateName to : StateName.values()) assertTrue(!Transitions.legal(s, to), s + "→" + to);
    }
  }

  private static Set<String> wires(Set<StateName> names) {
    return names.stream().map(StateName::wire).collect(Collectors.toSet());
  }

  private static Object argument(Class<?> type) {
    if (type == int.class) return 8080;
    if (type == String.class) return "x";
    if (type == List.class) return List.of("killed");
    if (type == Artifact.class) return ARTIFACT;
    if (type == JsonObject.class) return new JsonObject();
    throw new IllegalArgumentException(type.toString());
  }
}
