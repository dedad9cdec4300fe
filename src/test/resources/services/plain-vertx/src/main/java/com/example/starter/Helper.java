package com.example.starter;

import io.vertx.core.AbstractVerticle;

/** A second verticle: the pom's main.verticle says which one is the entry. */
public class Helper extends AbstractVerticle {
}
