package dev.ferry.runner;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.AbstractEventExecutorGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;

import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/**
 * One service's view of event loops a shared runner's services all run on: the loops are the
 * runner's, so a service holds no thread of its own, and its Vert.x closing shuts nothing down but
 * this view. Each service's contexts are spread over the loops as Vert.x spreads its own.
 */
final class SharedLoops extends AbstractEventExecutorGroup implements EventLoopGroup {

  private final EventLoopGroup loops;
  private final Promise<Void> closed = ImmediateEventExecutor.INSTANCE.newPromise();

  SharedLoops(EventLoopGroup loops) {
    this.loops = loops;
  }

  @Override
  public EventLoop next() {
    return (EventLoop) loops.next();
  }

  @Override
  public Iterator<EventExecutor> iterator() {
    return loops.iterator();
  }

  @Override
  public ChannelFuture register(Channel channel) {
    return next().register(channel);
  }

  @Override
  public ChannelFuture register(ChannelPromise promise) {
    return next().register(promise);
  }

  @Override
  @Deprecated
  public ChannelFuture register(Channel channel, ChannelPromise promise) {
    return next().register(channel, promise);
  }

  @Override
  public boolean isShuttingDown() {
    return closed.isDone();
  }

  @Override
  public Future<?> shutdownGracefully(long quietPeriod, long timeout, TimeUnit unit) {
    closed.trySuccess(null);
    return closed;
  }

  @Override
  public Future<?> terminationFuture() {
    return closed;
  }

  @Override
  @Deprecated
  public void shutdown() {
    closed.trySuccess(null);
  }

  @Override
  public boolean isShutdown() {
    return closed.isDone();
  }

  @Override
  public boolean isTerminated() {
    return closed.isDone();
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) {
    return true;
  }
}
