<h1>Hello ${name}, rendered by FreeMarker</h1>
