# Type stubs for greenfix.watchdog (the module itself also runs on Python 2.7).
import logging
from typing import Any, Callable, ContextManager, Deque, Dict, List, Optional, Union

DEFAULT_THRESHOLD: float
ENV_VARIABLE: str
LOGGER_NAME: str
KEEP_BLOCKS: int

class HubBlocked(AssertionError): ...
class HubLookup(AssertionError): ...

class Block:
    number: int
    started: float
    duration: float
    ended: bool
    stack: Optional[str]
    where: Optional[str]
    source: Optional[str]
    def describe(self) -> str: ...

_Stderr = Union[bool, str]

class Watchdog:
    threshold: float
    interval: float
    callback: Optional[Callable[[Block], Any]]
    log: bool
    stderr: _Stderr
    logger: logging.Logger
    framework_name: str
    blocks: Deque[Block]
    counts: Dict[str, Any]
    def __init__(
        self,
        threshold: float = ...,
        callback: Optional[Callable[[Block], Any]] = ...,
        log: bool = ...,
        stderr: _Stderr = ...,
        framework: Optional[str] = ...,
        logger: Optional[logging.Logger] = ...,
    ) -> None: ...
    def start(self) -> "Watchdog": ...
    def stop(self) -> None: ...
    @property
    def running(self) -> bool: ...
    def stats(self) -> Dict[str, Any]: ...

def use_native_lock(handler: logging.Handler, framework: Optional[str] = ...) -> logging.Handler: ...
def start(
    threshold: float = ...,
    callback: Optional[Callable[[Block], Any]] = ...,
    stderr: _Stderr = ...,
    framework: Optional[str] = ...,
) -> bool: ...
def stop() -> bool: ...
def is_running() -> bool: ...
def current() -> Optional[Watchdog]: ...
def stats() -> Dict[str, Any]: ...
def start_from_environment() -> bool: ...
def no_block(max_ms: float, framework: Optional[str] = ...) -> ContextManager[Watchdog]: ...
def no_hub_lookups(framework: Optional[str] = ...) -> ContextManager[List[str]]: ...
