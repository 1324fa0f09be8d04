import socket


class ClosesOnlyTheFile:
    def __init__(self, addr):
        self.sock = socket.create_connection(addr)
        self.file = open("/dev/null", "rb")
        try:
            self.sock.sendall(b"hello")
        except OSError:
            self.close()
            raise

    def close(self):
        self.file.close()
