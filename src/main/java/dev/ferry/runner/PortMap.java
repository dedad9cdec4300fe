package dev.ferry.runner;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.InternetProtocolFamily;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.transport.Transport;

import java.net.InetSocketAddress;

/**
 * Virtualizes the ports of one service's {@code Vertx}: a transport that binds every TCP server
 * (HTTP, plain TCP, event-bus bridges, a library's own server) where the platform says, whatever
 * port the code asked for. The first server the service opens (or the one asking for
 * {@code ferry.port}, or for its config's {@code http.port}) gets the assigned, routed port; any
 * other server gets a private port the OS picks. Everything binds loopback only. Before a port is
 * assigned (the runner warming up) binds pass through unchanged. In a shared runner it also hands
 * the service's Vert.x the runner's own event loops ({@link SharedLoops}) instead of new threads.
 */
final class PortMap implements io.vertx.core.spi.transport.Transport {

  /** Hears every bind: which port the code asked for, which one it got (-1 if the bind failed). */
  interface Listener {
    void bound(int requested, int actual, String failure);
  }

  private static final String LOOPBACK = "127.0.0.1";

  private final io.vertx.core.spi.transport.Transport nio = Transport.NIO.implementation();
  private final io.netty.channel.EventLoopGroup sharedLoops;
  private final io.netty.channel.EventLoopGroup sharedAcceptor;
  private volatile Assignment assignment;

  /** A map for a Vert.x with threads of its own. */
  PortMap() {
    this(null, null);
  }

  /** A map for a Vert.x that runs on {@code loops} and accepts on {@code acceptor} (the shared runner's), when not null. */
  PortMap(io.netty.channel.EventLoopGroup loops, io.netty.channel.EventLoopGroup acceptor) {
    this.sharedLoops = loops;
    this.sharedAcceptor = acceptor;
  }

  @Override
  public io.netty.channel.EventLoopGroup eventLoopGroup(int type, int nThreads, java.util.concurrent.ThreadFactory threadFactory, int ioRatio) {
    io.netty.channel.EventLoopGroup shared = type == ACCEPTOR_EVENT_LOOP_GROUP ? sharedAcceptor : sharedLoops;
    return shared != null ? new SharedLoops(shared) : io.vertx.core.spi.transport.Transport.super.eventLoopGroup(type, nThreads, threadFactory, ioRatio);
  }

  /** The routed port, the port the code must ask for to get it (null: the first one asked for), who hears binds. */
  private record Assignment(int port, Integer routedRequest, Listener listener) {
  }

  /** From now on, binds go to {@code port} as described above. */
  void assign(int port, Integer routedRequest, Listener listener) {
    this.assignment = new Assignment(port, routedRequest, listener);
  }

  /** Where a bind that asked for {@code requested} goes. */
  private synchronized InetSocketAddress target(InetSocketAddress requested, Assignment a) {
    int asked = requested.getPort();
    boolean routed = asked == a.port
        || (a.routedRequest != null ? asked == a.routedRequest : !routedTaken || asked == routedAsked);
    if (routed && !routedTaken) {
      routedTaken = true;
      routedAsked = asked;
    }
    return new InetSocketAddress(LOOPBACK, routed ? a.port : 0);
  }

  private boolean routedTaken;
  private int routedAsked;

  @Override
  public ChannelFactory<? extends ServerChannel> serverChannelFactory(boolean domainSocket) {
    if (domainSocket) return nio.serverChannelFactory(true);
    return () -> new NioServerSocketChannel() {
      @Override
      protected void doBind(java.net.SocketAddress local) throws Exception {
        Assignment a = assignment;
        if (a == null || !(local instanceof InetSocketAddress requested)) {
          super.doBind(local);
          return;
        }
        InetSocketAddress target = target(requested, a);
        try {
          super.doBind(target);
        } catch (Exception e) {
          a.listener.bound(requested.getPort(), -1, e.getMessage());
          throw e;
        }
        a.listener.bound(requested.getPort(), ((InetSocketAddress) javaChannel().getLocalAddress()).getPort(), null);
      }
    };
  }

  @Override
  public IoHandlerFactory ioHandlerFactory() {
    return nio.ioHandlerFactory();
  }

  @Override
  public DatagramChannel datagramChannel() {
    return nio.datagramChannel();
  }

  @Override
  @SuppressWarnings("deprecation")
  public DatagramChannel datagramChannel(InternetProtocolFamily family) {
    return nio.datagramChannel(family);
  }

  @Override
  public ChannelFactory<? extends Channel> channelFactory(boolean domainSocket) {
    return nio.channelFactory(domainSocket);
  }

  @Override
  public boolean supportsDomainSockets() {
    return nio.supportsDomainSockets();
  }

  @Override
  public java.net.SocketAddress convert(SocketAddress address) {
    return nio.convert(address);
  }

  @Override
  public SocketAddress convert(java.net.SocketAddress address) {
    return nio.convert(address);
  }
}
