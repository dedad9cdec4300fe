package dev.ferry.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RestorerTest {

  @Test
  void the_ports_something_listens_on_are_read_from_the_kernels_socket_tables() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
         Socket client = new Socket()) {
      client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()));
      int closed;
      try (ServerSocket gone = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
        closed = gone.getLocalPort();
      }
      Set<Integer> listening = Restorer.listeningPorts(Path.of("/proc/net"));
      assertTrue(listening.contains(server.getLocalPort()), "a listening socket: " + listening);
      assertFalse(listening.contains(client.getLocalPort()), "a connected socket's own port does not listen");
      assertFalse(listening.contains(closed), "a closed server's port");
    }
  }

  @Test
  void both_tables_are_read_and_only_listening_sockets_count(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("tcp"), """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 0100007F:4E20 00000000:0000 0A 00000000:00000000 00:00000000 00000000 65534        0 1 1 0 100 0 0 10 0
           1: 0100007F:4E21 0100007F:9C40 01 00000000:00000000 00:00000000 00000000 65534        0 2 1 0 20 4 30 10 -1
        """);
    Files.writeString(dir.resolve("tcp6"), """
          sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 00000000000000000000000001000000:4E22 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0
        """);
    assertEquals(Set.of(20000, 20002), Restorer.listeningPorts(dir));
    assertEquals(Set.of(), Restorer.listeningPorts(dir.resolve("nothing-here")));
  }
}
