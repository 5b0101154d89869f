/*
 * control — the agent's control mode: a ZeroMQ DEALER to the coordinator,
 * driven from this (the main) thread with zmq_poll, steering the engine phase
 * by phase. Conversation in proto/msg.h. Dead man's switch: a coordinator
 * silent for its heartbeat timeout makes the agent close every connection and
 * go back to idle, so a killed coordinator cannot leave sockets open on the
 * server.
 */
#ifndef CONNSCALE_CONTROL_H
#define CONNSCALE_CONTROL_H

#include <signal.h>

#include "options.h"

/* Runs until *stop is set; returns the process exit code. */
int control_run(const struct agent_options *o, volatile sig_atomic_t *stop);

#endif
